import { type Agent, type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import net, { type NetConnectOpts, type Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls, { type SecureContextOptions } from 'node:tls';
import { acceptResponse, buildOffer, EXTENSION_NAME } from '../protocol/extensions/negotiation.js';
import { acceptKey, generateKey } from '../protocol/handshake/accept.js';
import { formatExtensions, isToken, parseExtensions } from '../protocol/handshake/headers.js';
import {
  CLOSING,
  CONNECTING,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_REDIRECTS,
  WS_CLOSE_TIMEOUT,
  WS_HANDSHAKE_TIMEOUT,
} from './constants.js';
import { deflateSetting, type WsPerMessageDeflateOptions } from './deflate-options.js';
import { handshakeError } from './errors.js';
import type { WebSocket } from './websocket.js';

/**
 * ws's client options, with the TLS and connection options @types/ws lists; any other option of
 * `http(s).request` may be passed too (the constructor takes `ClientRequestArgs`), and goes there.
 */
export interface ClientOptions extends SecureContextOptions {
  /** 13 (default) or 8. */
  protocolVersion?: number;
  /** Extra request headers. */
  headers?: Record<string, string | string[] | number>;
  /** The Origin header (Sec-WebSocket-Origin for version 8). */
  origin?: string;
  /**
   * Milliseconds the opening handshake may wait without progress (an idle limit on its connection,
   * as ws applies it: TCP, TLS and the upgrade). Default 30,000 (ws: none); 0: none.
   */
  handshakeTimeout?: number;
  /** Largest message accepted, in bytes. Default 16 MiB (ws: 100 MiB); 0 lifts the limit. */
  maxPayload?: number;
  /** permessage-deflate: offered by default; `false` does not offer it; ws's option object tunes it. */
  perMessageDeflate?: boolean | WsPerMessageDeflateOptions;
  /** Follow 3xx responses. Default false. */
  followRedirects?: boolean;
  /** Most redirects followed. Default 10. */
  maxRedirects?: number;
  /** The http(s) Agent of the handshake request. */
  agent?: Agent;
  /** Makes the connection of the handshake request (default: `net.connect`, or `tls.connect` for wss:). */
  createConnection?: (options: NetConnectOpts & tls.ConnectionOptions, callback?: () => void) => Duplex;
  /** Called instead of `request.end()`, to write to the request first. */
  finishRequest?: (request: ClientRequest, websocket: WebSocket) => void;
  /** Accepted and ignored: text is always checked for UTF-8. */
  skipUTF8Validation?: boolean;
  /** Accepted and ignored: events are emitted as messages are parsed. */
  allowSynchronousEvents?: boolean;
  /** Accepted and ignored: pings are always answered. */
  autoPong?: boolean;
  /** Milliseconds to wait for the closing handshake. Default 30,000. */
  closeTimeout?: number;
  /** Most frames in one message. Default 131,072; 0 keeps the default. */
  maxFragments?: number;
  /** Accepted and ignored: messages are assembled without a chunk count. */
  maxBufferedChunks?: number;
  /** Accepted and ignored: masks come from wsx's own generator. */
  generateMask?(mask: Buffer): void;
  /** Local address of the connection. */
  localAddress?: string;
  /** IP family of the connection (4 or 6). */
  family?: number;
  /** Checks the server's certificate name (TLS). */
  checkServerIdentity?(servername: string, cert: string | string[] | Buffer | Buffer[]): boolean;
  /** Refuse a server whose certificate does not verify (TLS). Default true. */
  rejectUnauthorized?: boolean;
}

/** Where the first request of a redirect chain went, to decide which credentials follow. */
interface RedirectOrigin {
  readonly ipc: boolean;
  readonly secure: boolean;
  readonly hostOrSocketPath: string | undefined;
}
const redirectOrigins = new WeakMap<WebSocket, RedirectOrigin>();
/** Requests given up on: their late errors are not the WebSocket's. */
const abandoned = new WeakSet<ClientRequest>();

const WS_PROTOCOL_MESSAGE =
  'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';

/**
 * Starts (or, after a redirect, restarts) a client's opening handshake over `http.request`, so
 * that `agent`, `createConnection`, `finishRequest` and the TLS options work as with ws. URL
 * and subprotocol errors throw from the constructor; later failures are `error` then `close`.
 */
export function startClientHandshake(
  ws: WebSocket,
  address: string | URL,
  protocols: readonly string[],
  options: ClientOptions,
): void {
  const opts: Record<string, unknown> & ClientOptions = {
    allowSynchronousEvents: true,
    autoPong: true,
    closeTimeout: WS_CLOSE_TIMEOUT,
    protocolVersion: 13,
    perMessageDeflate: true,
    followRedirects: false,
    maxRedirects: DEFAULT_MAX_REDIRECTS,
    ...options,
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
    timeout: undefined,
    method: 'GET',
    host: undefined,
    path: undefined,
    port: undefined,
  };
  if (opts.protocolVersion !== 8 && opts.protocolVersion !== 13) {
    throw new RangeError(`Unsupported protocol version: ${opts.protocolVersion} (supported versions: 8, 13)`);
  }
  let url: URL;
  if (address instanceof URL) {
    url = address;
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  ws._url = url.href;
  const secure = url.protocol === 'wss:';
  const ipc = url.protocol === 'ws+unix:';
  let invalid: string | undefined;
  if (url.protocol !== 'ws:' && !secure && !ipc) invalid = WS_PROTOCOL_MESSAGE;
  else if (ipc && !url.pathname) invalid = "The URL's pathname is empty";
  else if (url.hash) invalid = 'The URL contains a fragment identifier';
  if (invalid !== undefined) {
    const error = new SyntaxError(invalid);
    if (ws._redirects === 0) throw error;
    emitErrorAndClose(ws, error);
    return;
  }

  const key = generateKey();
  const defaultPort = secure ? 443 : 80;
  opts.createConnection ??= (secure ? tlsConnect : netConnect) as never;
  opts.defaultPort ||= defaultPort;
  opts.port = url.port || defaultPort;
  opts.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const headers: Record<string, unknown> = {
    ...opts.headers,
    'Sec-WebSocket-Version': opts.protocolVersion,
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  opts.headers = headers as never;
  opts.path = url.pathname + url.search;
  // ws has no default: a server that accepts TCP and never answers would hold the client forever.
  // `undefined` (given or not) takes the default; 0 is ws's explicit "no limit".
  opts.handshakeTimeout ??= WS_HANDSHAKE_TIMEOUT;
  opts.timeout = opts.handshakeTimeout;

  const deflate = deflateSetting(opts.perMessageDeflate, true);
  const offer = buildOffer(deflate);
  if (offer !== null) headers['Sec-WebSocket-Extensions'] = formatExtensions([offer]);
  const offered = new Set<string>();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !isToken(protocol) || offered.has(protocol)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    offered.add(protocol);
  }
  if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  if (opts.origin) headers[opts.protocolVersion < 13 ? 'Sec-WebSocket-Origin' : 'Origin'] = opts.origin;
  if (url.username || url.password) {
    opts.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  }
  if (ipc) {
    // ws+unix:/path/to.sock:/request/path
    const path = opts.path as string;
    const colon = path.indexOf(':');
    opts.socketPath = colon === -1 ? path : path.slice(0, colon);
    opts.path = colon === -1 ? '' : path.slice(colon + 1);
  }

  if (opts.followRedirects) {
    options = carryCredentials(ws, url, ipc, secure, opts, headers, options);
  }
  const request = secure ? httpsRequest : httpRequest;
  const req = request(opts as never);
  ws._req = req;
  if (ws._redirects > 0) ws.emit('redirect', ws.url, req);

  if (opts.timeout) {
    req.on('timeout', () => {
      // The socket's idle timer may still fire after the request was given up.
      if (ws._req === req && !abandoned.has(req)) abortHandshake(ws, req, 'Opening handshake has timed out');
    });
  }
  req.on('error', (error) => {
    if (ws._req !== req || abandoned.has(req)) return;
    ws._req = null;
    emitErrorAndClose(ws, error);
  });
  req.on('response', (res: IncomingMessage) => {
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (location && opts.followRedirects && status >= 300 && status < 400) {
      if (++ws._redirects > (opts.maxRedirects as number)) {
        abortHandshake(ws, req, 'Maximum redirects exceeded');
        return;
      }
      abandoned.add(req);
      req.destroy();
      let next: URL;
      try {
        next = new URL(location, address);
      } catch {
        emitErrorAndClose(ws, new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      startClientHandshake(ws, next, protocols, options);
    } else if (!ws.emit('unexpected-response', req, res)) {
      abortHandshake(ws, req, `Unexpected server response: ${res.statusCode}`);
    }
  });
  req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
    ws.emit('upgrade', res);
    if (ws.readyState !== CONNECTING) return;
    ws._req = null;
    const problem = checkUpgradeResponse(res, key, offered, offer !== null);
    if (typeof problem === 'string') {
      abortHandshake(ws, socket, problem);
      return;
    }
    let params = null;
    if (problem.extensions !== undefined) {
      try {
        params = acceptResponse(problem.extensions, deflate, 101);
      } catch {
        abortHandshake(ws, socket, 'Invalid Sec-WebSocket-Extensions header');
        return;
      }
    }
    ws.setSocket(socket, head, {
      maxPayload: (opts.maxPayload as number | undefined) ?? DEFAULT_MAX_PAYLOAD,
      maxFragments: opts.maxFragments as number | undefined,
      protocol: problem.protocol,
      extensions: params === null ? '' : EXTENSION_NAME,
      deflate: params,
      closeTimeout: opts.closeTimeout as number,
    });
  });

  if (typeof opts.finishRequest === 'function') opts.finishRequest(req, ws);
  else req.end();
}

/**
 * Follows ws's rule for credentials across redirects: Authorization and Cookie (and Host,
 * for another host) are not sent to another host or from https down to http, unless a
 * `redirect` listener takes charge of the headers. Returns the options for the next hop.
 */
function carryCredentials(
  ws: WebSocket,
  url: URL,
  ipc: boolean,
  secure: boolean,
  opts: Record<string, unknown>,
  headers: Record<string, unknown>,
  options: ClientOptions,
): ClientOptions {
  if (ws._redirects === 0) {
    redirectOrigins.set(ws, {
      ipc,
      secure,
      hostOrSocketPath: ipc ? (opts.socketPath as string) : url.host,
    });
    const lower: Record<string, string | string[] | number> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) lower[name.toLowerCase()] = value;
    options = { ...options, headers: lower };
  } else if (ws.listenerCount('redirect') === 0) {
    const origin = redirectOrigins.get(ws)!;
    const sameHost = ipc
      ? origin.ipc && opts.socketPath === origin.hostOrSocketPath
      : !origin.ipc && url.host === origin.hostOrSocketPath;
    if (!sameHost || (origin.secure && !secure)) {
      delete headers.authorization;
      delete headers.cookie;
      if (!sameHost) delete headers.host;
      opts.auth = undefined;
    }
  }
  if (opts.auth && !options.headers!.authorization) {
    options.headers!.authorization = `Basic ${Buffer.from(opts.auth as string).toString('base64')}`;
  }
  return options;
}

interface AcceptedUpgrade {
  readonly protocol: string;
  /** The extensions the server accepted, when it named any. */
  readonly extensions: ReturnType<typeof parseExtensions> | undefined;
}

/** The server's 101 checked as ws checks it; a string is the reason it is refused. */
function checkUpgradeResponse(
  res: IncomingMessage,
  key: string,
  offered: ReadonlySet<string>,
  offeredDeflate: boolean,
): AcceptedUpgrade | string {
  const upgrade = res.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  if (res.headers['sec-websocket-accept'] !== acceptKey(key)) return 'Invalid Sec-WebSocket-Accept header';
  const protocol = res.headers['sec-websocket-protocol'];
  if (protocol !== undefined) {
    if (offered.size === 0) return 'Server sent a subprotocol but none was requested';
    if (!offered.has(protocol)) return 'Server sent an invalid subprotocol';
  } else if (offered.size > 0) {
    return 'Server sent no subprotocol';
  }
  const extensionHeader = res.headers['sec-websocket-extensions'];
  if (extensionHeader === undefined) return { protocol: protocol ?? '', extensions: undefined };
  if (!offeredDeflate) return 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
  let extensions: ReturnType<typeof parseExtensions>;
  try {
    extensions = parseExtensions(extensionHeader);
  } catch {
    return 'Invalid Sec-WebSocket-Extensions header';
  }
  if (extensions.length !== 1 || extensions[0].name !== EXTENSION_NAME) {
    return 'Server indicated an extension that was not requested';
  }
  return { protocol: protocol ?? '', extensions };
}

/** How http.request connects by default: TCP, or a unix socket for ws+unix: URLs. */
function netConnect(options: net.NetConnectOpts & { socketPath?: string }): NetSocket {
  return net.connect({ ...options, path: options.socketPath } as net.NetConnectOpts);
}

/** TLS, with SNI for a host name (none for an IP address, or when `servername` is ''). */
function tlsConnect(options: tls.ConnectionOptions & { host?: string }): tls.TLSSocket {
  const servername =
    options.servername || options.servername === ''
      ? options.servername
      : net.isIP(options.host ?? '')
        ? ''
        : options.host;
  // Looked up at each call, so that code that wraps tls.connect sees the call.
  return tls.connect({ ...options, path: undefined, servername });
}

/**
 * Gives up a handshake: the request (or the upgraded socket) is destroyed, then `error` with
 * `message` and `close` are emitted.
 */
export function abortHandshake(ws: WebSocket, stream: ClientRequest | Duplex | null, message: string): void {
  ws._readyState = CLOSING;
  const error = handshakeError(message);
  if (stream === null) {
    process.nextTick(emitErrorAndClose, ws, error);
    return;
  }
  if ('setHeader' in stream) {
    abandoned.add(stream);
    stream.destroy();
    const socket = stream.socket as NetSocket | null;
    if (socket !== null && !socket.destroyed) socket.destroy();
    process.nextTick(emitErrorAndClose, ws, error);
    return;
  }
  stream.destroy(error);
  stream.once('error', (cause: Error) => ws.emit('error', cause));
  stream.once('close', () => ws.emitClose());
}

function emitErrorAndClose(ws: WebSocket, error: Error): void {
  ws._readyState = CLOSING;
  ws._errorEmitted = true;
  ws.emit('error', error);
  ws.emitClose();
}
