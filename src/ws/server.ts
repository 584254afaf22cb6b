import type { EventEmitter } from 'node:events';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type PerMessageDeflateOptions, serverDeflateOptions } from '../protocol/extensions/negotiation.js';
import { acceptKey } from '../protocol/handshake/accept.js';
import { formatExtensions } from '../protocol/handshake/headers.js';
import { DEFAULT_MAX_PAYLOAD } from './constants.js';
import { deflateSetting, type WsPerMessageDeflateOptions } from './deflate-options.js';
import { checkUpgradeRequest, refuse } from './server-handshake.js';
import { type ServerEvents, typedEmitter } from './typed-events.js';
import { WebSocket } from './websocket.js';

/** What `verifyClient` is told of a request. */
export interface VerifyClientInfo {
  /** The Origin header (Sec-WebSocket-Origin for version 8). */
  origin: string | undefined;
  /** Whether the connection is TLS. */
  secure: boolean;
  /** The upgrade request. */
  req: IncomingMessage;
}
/** Accepts (true) or refuses (false: 401) a client. */
export type VerifyClientCallbackSync = (info: VerifyClientInfo) => boolean;
/** Accepts or refuses a client through `callback`, with the status, message and headers of a refusal. */
export type VerifyClientCallbackAsync = (
  info: VerifyClientInfo,
  callback: (
    verified: boolean,
    code?: number,
    message?: string,
    headers?: Record<string, string | number>,
  ) => void,
) => void;

/** ws's server options. */
export interface ServerOptions {
  /** Host of the HTTP server made from `port`. */
  host?: string;
  /** Make an HTTP server listening on this port (0: any free one). */
  port?: number;
  /** Backlog of the server made from `port`. */
  backlog?: number;
  /** Take the upgrades of this HTTP(S) server. */
  server?: HttpServer | HttpsServer;
  /** No HTTP server: the application calls `handleUpgrade`. */
  noServer?: boolean;
  /** Only take requests for this path. */
  path?: string;
  /** Accepts or refuses each client before the upgrade. */
  verifyClient?: VerifyClientCallbackSync | VerifyClientCallbackAsync;
  /** Picks the subprotocol among those offered (default: the first); false picks none. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  /** Keep the connected clients in `clients`. Default true. */
  clientTracking?: boolean;
  /** Largest message accepted (bytes). Default: wsx's 16 MiB (ws: 100 MiB); 0: no limit. */
  maxPayload?: number;
  /** permessage-deflate: off by default; `true` or ws's option object accepts it. */
  perMessageDeflate?: boolean | WsPerMessageDeflateOptions;
  /** Accepted and ignored: text is always checked for UTF-8. */
  skipUTF8Validation?: boolean;
  /** Accepted and ignored: events are emitted as messages are parsed. */
  allowSynchronousEvents?: boolean;
  /** Accepted and ignored: pings are always answered. */
  autoPong?: boolean;
  /** Milliseconds to wait for the closing handshake. Default 30,000. */
  closeTimeout?: number;
  /** Most frames in one message (wsx's default 131,072; 0 keeps it). */
  maxFragments?: number;
  /** Accepted for compatibility; wsx assembles messages without a chunk count. */
  maxBufferedChunks?: number;
  /** The class of the server's sockets: WebSocket or a subclass. */
  WebSocket?: typeof WebSocket;
}

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;
/** Sockets already given to `handleUpgrade`. */
const upgraded = new WeakSet<Duplex>();

/** ws's `WebSocketServer` over wsx's handshake checks and sockets. */
export class WebSocketServer extends typedEmitter<ServerEvents>() {
  /** The options, with ws's defaults filled in. */
  readonly options: ServerOptions & {
    /** The class of the server's sockets. */
    WebSocket: typeof WebSocket;
  };
  /** The connected clients, when `clientTracking` is on (the default; otherwise undefined, as with ws). */
  clients: Set<WebSocket>;
  /** @internal */
  _server: HttpServer | HttpsServer | EventEmitter | null = null;
  /** @internal RUNNING, CLOSING or CLOSED (ws's name). */
  _state = RUNNING;
  private shouldEmitClose = false;
  private removeListeners: (() => void) | null = null;
  private readonly deflate: PerMessageDeflateOptions;

  /** A server; with `port`, `callback` is called once it listens. Throws a TypeError for contradictory options. */
  constructor(options: ServerOptions, callback?: () => void) {
    super();
    this.options = {
      allowSynchronousEvents: true,
      autoPong: true,
      maxPayload: DEFAULT_MAX_PAYLOAD,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      clientTracking: true,
      noServer: false,
      WebSocket,
      ...options,
    } as ServerOptions & { WebSocket: typeof WebSocket };
    const { port, server, noServer } = this.options;
    if (
      (port == null && !server && !noServer) ||
      (port != null && (server || noServer)) ||
      (server && noServer)
    ) {
      throw new TypeError(
        'One and only one of the "port", "server", or "noServer" options must be specified',
      );
    }
    // Checked here, so that bad settings fail the constructor rather than the first upgrade.
    this.deflate = deflateSetting(this.options.perMessageDeflate, false);
    serverDeflateOptions(this.deflate); // throws a RangeError for out-of-range settings
    if (port != null) {
      const http = createServer(answerUpgradeRequired);
      this._server = http;
      http.listen(port, this.options.host as string, this.options.backlog as number, callback);
    } else if (server) {
      this._server = server;
    }
    if (this._server !== null) {
      this.removeListeners = listen(this._server, {
        listening: () => this.emit('listening'),
        error: (error: Error) => this.emit('error', error),
        upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) =>
          this.handleUpgrade(req, socket, head, (ws) => this.emit('connection', ws, req)),
      });
    }
    this.clients = (this.options.clientTracking ? new Set() : undefined) as Set<WebSocket>;
  }

  /** The `path` option ('' when every path is taken). */
  get path(): string {
    return this.options.path ?? '';
  }

  /** The address of the server ws made (`port`) or was given (`server`); null before listening. */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (this._server === null) return null;
    return (this._server as HttpServer).address();
  }

  /**
   * Stops accepting connections. A server made from `port` is closed (it waits for its
   * connections, as Node's `server.close` does); otherwise `close` is emitted once every
   * tracked client has closed. Open clients are not closed.
   */
  close(cb?: (error?: Error) => void): void {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    const own = !this.options.noServer && !this.options.server;
    const server = this._server;
    this.removeListeners?.();
    this.removeListeners = null;
    this._server = null;
    if (own) {
      (server as HttpServer).close(() => emitClose(this));
    } else if (this.clients !== undefined && this.clients.size > 0) {
      this.shouldEmitClose = true;
    } else {
      process.nextTick(emitClose, this);
    }
  }

  /** Whether this server takes the request: its path matches `path`, when one is set. */
  shouldHandle(req: IncomingMessage): boolean {
    const path = this.options.path;
    if (!path) return true;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    return (query === -1 ? url : url.slice(0, query)) === path;
  }

  /** Completes (or refuses) an upgrade; `cb` gets the WebSocket once the 101 is written. */
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (client: WebSocket, request: IncomingMessage) => void,
  ): void {
    socket.on('error', destroyOnError);
    const checked = checkUpgradeRequest(req, this.deflate);
    if ('status' in checked) {
      this.refuseOrReport(req, socket, checked.status, checked.message, checked.headers);
      return;
    }
    if (!this.shouldHandle(req)) {
      refuse(socket, 400);
      return;
    }
    const verifyClient = this.options.verifyClient;
    if (verifyClient) {
      const transport = req.socket as Duplex & { authorized?: boolean; encrypted?: boolean };
      const origin = req.headers[checked.version === 8 ? 'sec-websocket-origin' : 'origin'];
      const info: VerifyClientInfo = {
        origin: Array.isArray(origin) ? origin[0] : origin,
        secure: Boolean(transport.authorized || transport.encrypted),
        req,
      };
      if (verifyClient.length === 2) {
        (verifyClient as VerifyClientCallbackAsync)(info, (verified, code, message, headers) => {
          if (!verified) {
            refuse(socket, code || 401, message, headers);
            return;
          }
          this.completeUpgrade(checked, req, socket, head, cb);
        });
        return;
      }
      if (!(verifyClient as VerifyClientCallbackSync)(info)) {
        refuse(socket, 401);
        return;
      }
    }
    this.completeUpgrade(checked, req, socket, head, cb);
  }

  private completeUpgrade(
    checked: Exclude<ReturnType<typeof checkUpgradeRequest>, { status: number }>,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (client: WebSocket, request: IncomingMessage) => void,
  ): void {
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if (upgraded.has(socket)) {
      throw new Error(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      );
    }
    if (this._state > RUNNING) {
      refuse(socket, 503);
      return;
    }
    upgraded.add(socket);
    const headers = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(checked.key)}`,
    ];
    const ws = new this.options.WebSocket(null, undefined, this.options as never);
    let protocol = '';
    if (checked.protocols.size > 0) {
      const chosen = this.options.handleProtocols
        ? this.options.handleProtocols(checked.protocols, req)
        : checked.protocols.values().next().value;
      if (chosen) {
        protocol = chosen;
        headers.push(`Sec-WebSocket-Protocol: ${chosen}`);
      }
    }
    if (checked.deflate !== null) {
      headers.push(`Sec-WebSocket-Extensions: ${formatExtensions([checked.deflate.response])}`);
    }
    this.emit('headers', headers, req);
    socket.write(`${headers.join('\r\n')}\r\n\r\n`);
    socket.removeListener('error', destroyOnError);
    ws.setSocket(socket, head, {
      maxPayload: this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxFragments: this.options.maxFragments,
      protocol,
      extensions: checked.deflate === null ? '' : 'permessage-deflate',
      deflate: checked.deflate?.params ?? null,
      closeTimeout: this.options.closeTimeout,
    });
    const clients = this.clients;
    if (clients !== undefined) {
      clients.add(ws);
      ws.on('close', () => {
        clients.delete(ws);
        if (this.shouldEmitClose && clients.size === 0) process.nextTick(emitClose, this);
      });
    }
    cb(ws, req);
  }

  /** ws's rule: with a `wsClientError` listener the application answers; otherwise the status is sent. */
  private refuseOrReport(
    req: IncomingMessage,
    socket: Duplex,
    status: number,
    message: string,
    headers?: Record<string, string | number>,
  ): void {
    if (this.listenerCount('wsClientError') > 0) {
      const error = new Error(message);
      Error.captureStackTrace(error, this.refuseOrReport);
      this.emit('wsClientError', error, socket, req);
      return;
    }
    refuse(socket, status, message, headers);
  }
}

function emitClose(server: WebSocketServer): void {
  server._state = CLOSED;
  server.emit('close');
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** What a server made from `port` answers to plain HTTP requests. */
function answerUpgradeRequired(_req: IncomingMessage, res: ServerResponse): void {
  const body = STATUS_CODES[426]!;
  res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
  res.end(body);
}

/** Adds listeners to `server`; returns what removes them. */
// biome-ignore lint/suspicious/noExplicitAny: listeners of any event arguments
function listen(server: EventEmitter, listeners: Record<string, (...args: any[]) => void>): () => void {
  for (const [event, listener] of Object.entries(listeners)) server.on(event, listener);
  return () => {
    for (const [event, listener] of Object.entries(listeners)) server.removeListener(event, listener);
  };
}
