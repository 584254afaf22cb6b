import { type Socket as NetSocket, connect as netConnect } from 'node:net';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import { handshakeFailedChannel } from '../node/diagnostics.js';
import { Socket, type SocketHandlers, type SocketSettings } from '../node/socket.js';
import { HandshakeError, UsageError } from '../protocol/errors.js';
import {
  acceptResponse,
  buildOffer,
  type DeflateParams,
  deflateOptions,
  EXTENSION_NAME,
  type PerMessageDeflateOptions,
} from '../protocol/extensions/negotiation.js';
import { generateKey } from '../protocol/handshake/accept.js';
import { buildUpgradeRequest, validateUpgradeResponse } from '../protocol/handshake/client.js';
import { formatExtensions } from '../protocol/handshake/headers.js';
import { type HeadLimits, ResponseHeadReader } from '../protocol/handshake/http-head.js';
import { type ConnectionLimits, resolveLimits } from '../protocol/limits.js';
import { connectHttp2 } from './http2-connect.js';
import { clientSettings, NO_HANDLERS } from './socket-settings.js';
import { isIpAddress } from './transport.js';

/** Options of `connect`; every field has a default. */
export interface ConnectOptions<Data = unknown>
  extends Partial<ConnectionLimits>,
    Partial<SocketSettings>,
    Partial<HeadLimits> {
  /**
   * Subprotocols to offer, most preferred first. As RFC 6455 allows, the server may select
   * none of them: the socket then opens with `protocol` ''. (The WHATWG `WebSocket` and
   * `WebSocketStream` fail such a connection instead; `requireProtocol` does that here.)
   */
  readonly protocols?: readonly string[];
  /**
   * Fail the handshake (a HandshakeError with status 101) when `protocols` were offered and
   * the server selected none, as browsers do. Default false.
   */
  readonly requireProtocol?: boolean;
  /** Extra request headers (Authorization, Cookie, User-Agent...). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Origin header to send; none by default. */
  readonly origin?: string;
  /** Time for TCP, TLS and the HTTP upgrade together. Default 10,000 ms. */
  readonly handshakeTimeout?: number;
  /** TLS options for wss:// (ca, cert, key, rejectUnauthorized, servername...). */
  readonly tls?: TlsConnectionOptions;
  /** The socket's event handlers. */
  readonly handlers?: SocketHandlers<Data>;
  /** Data to attach to the socket. */
  readonly data?: Data;
  /** Cancels the handshake. */
  readonly signal?: AbortSignal;
  /**
   * An already connected transport to speak the handshake over instead of opening a TCP or
   * TLS connection (a proxy tunnel, a unix socket, TLS over either): the request is written
   * at once. Used by `dial`, `WebSocket` and `WebSocketStream`.
   */
  readonly transport?: NetSocket;
  /**
   * permessage-deflate (RFC 7692): `true` (the default) offers it the way browsers do
   * (`permessage-deflate; client_max_window_bits`), `false` does not offer it.
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * WebSocket over HTTP/2 (RFC 8441): `true` opens it as a stream of an HTTP/2 connection
   * (h2 by ALPN for wss://, h2c with prior knowledge for ws://) and fails when the server does
   * not offer it; `'auto'` does so when ALPN picks h2 and the server advertises extended
   * CONNECT, and uses HTTP/1.1 otherwise (ws:// always). Every WebSocket to an origin (with
   * the same `tls` object) shares one HTTP/2 connection, closed 5 s after its last one.
   * The socket's `httpVersion` tells which was used. Default false.
   */
  readonly http2?: boolean | 'auto';
}

/** Time for the whole opening handshake unless `handshakeTimeout` says otherwise. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
/** The parts of a parsed ws:// or wss:// URL that a connection needs. */
export interface Target {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
  readonly hostHeader: string;
  readonly path: string;
  readonly href: string;
}

/** Checks a ws:// or wss:// URL (http and https are taken as their WebSocket equivalents). */
export function parseWebSocketUrl(input: string | URL): Target {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`invalid URL: ${String(input)}`);
  }
  const scheme = url.protocol === 'http:' ? 'ws:' : url.protocol === 'https:' ? 'wss:' : url.protocol;
  if (scheme !== 'ws:' && scheme !== 'wss:')
    throw new UsageError(`URL scheme must be ws: or wss:, not ${url.protocol}`);
  // RFC 6455 §3: fragment identifiers are meaningless in WebSocket URIs and MUST NOT be used.
  if (url.hash !== '' || String(input).includes('#'))
    throw new UsageError('a WebSocket URL cannot have a fragment');
  const secure = scheme === 'wss:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    secure,
    hostname,
    port,
    hostHeader: url.host,
    path: `${url.pathname || '/'}${url.search}`,
    href: `${scheme}//${url.host}${url.pathname || '/'}${url.search}`,
  };
}

/**
 * Opens a WebSocket connection (RFC 6455 §4.1) and resolves with the open socket, whose
 * events go to `options.handlers`. Rejects with a HandshakeError (its `status` is the
 * server's HTTP status, or 0 when there was none) or the transport's error.
 *
 * Arguments are checked before anything is sent, and a bad one throws at once: a UsageError
 * for the URL, the subprotocols or a header the handshake sets itself, a TypeError naming the
 * header for a name or value that cannot be sent. Subprotocols follow RFC 6455, not the
 * WHATWG standard: the server may select none of those offered (unless `requireProtocol`).
 * Other defaults: a 10 s `handshakeTimeout`, the limits of {@link DEFAULT_LIMITS}, and
 * permessage-deflate offered.
 *
 * @example
 * ```ts
 * import { connect } from 'wsx';
 * const socket = await connect('ws://127.0.0.1:8080/echo', {
 *   handlers: { message: (_socket, data, isBinary) => console.log(isBinary ? data : data.toString('utf8')) },
 * });
 * socket.sendText('hello');
 * socket.close(1000, 'done');
 * ```
 */
export function connect<Data = unknown>(
  url: string | URL,
  options: ConnectOptions<Data> = {},
): Promise<Socket<Data>> {
  const target = parseWebSocketUrl(url);
  if (options.http2 === true || options.http2 === 'auto') {
    return connectHttp2(
      target,
      options,
      options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
      (transport, timeLeft) =>
        connect(url, { ...options, http2: false, transport, handshakeTimeout: timeLeft }),
    );
  }
  const limits = resolveLimits(options);
  const protocols = options.protocols ?? [];
  const key = generateKey();
  const deflate = deflateOptions(options.perMessageDeflate);
  const deflateOffer = buildOffer(deflate);
  const request = buildUpgradeRequest({
    host: target.hostHeader,
    path: target.path,
    key,
    protocols,
    extensions: deflateOffer === null ? [] : [deflateOffer],
    origin: options.origin,
    headers: options.headers,
  });
  const settings = clientSettings(options);
  const reader = new ResponseHeadReader({
    maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    maxHeaders: options.maxHeaders ?? 100,
  });

  return new Promise<Socket<Data>>((resolve, reject) => {
    if (options.signal?.aborted) {
      options.transport?.destroy();
      reject(options.signal.reason);
      return;
    }
    const transport: NetSocket =
      options.transport ??
      (target.secure
        ? tlsConnect({
            host: target.hostname,
            port: target.port,
            servername: isIpAddress(target.hostname) ? undefined : target.hostname,
            ALPNProtocols: ['http/1.1'],
            ...options.tls,
          })
        : netConnect({ host: target.hostname, port: target.port }));

    const timer = setTimeout(
      () => fail(new HandshakeError(0, 'opening handshake timed out')),
      options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    );
    const onAbort = () => fail(options.signal!.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      transport.off('data', onData);
      transport.off('error', fail);
      transport.off('close', onClose);
      transport.off(target.secure ? 'secureConnect' : 'connect', onConnect);
    };
    function fail(error: unknown): void {
      cleanup();
      transport.destroy();
      if (handshakeFailedChannel.hasSubscribers) handshakeFailedChannel.publish({ url: target.href, error });
      reject(error);
    }
    function onConnect(): void {
      transport.write(request, 'latin1');
    }
    function onClose(): void {
      fail(new HandshakeError(0, 'connection closed during the opening handshake'));
    }
    function onData(chunk: Buffer): void {
      let head: ReturnType<ResponseHeadReader['push']>;
      let result: ReturnType<typeof validateUpgradeResponse>;
      let deflateParams: DeflateParams | null;
      try {
        head = reader.push(chunk);
        if (head === null) return;
        result = validateUpgradeResponse(
          head,
          key,
          protocols,
          deflateOffer === null ? [] : [EXTENSION_NAME],
          {
            requireProtocol: options.requireProtocol,
          },
        );
        deflateParams = acceptResponse(result.extensions, deflate, head.status);
      } catch (error) {
        fail(error);
        return;
      }
      cleanup();
      const socket = new Socket<Data>({
        role: 'client',
        transport,
        handlers: options.handlers ?? (NO_HANDLERS as SocketHandlers<Data>),
        data: options.data as Data,
        protocol: result.protocol,
        extensions: formatExtensions(result.extensions),
        deflate: deflateParams,
        url: target.href,
        settings,
        limits,
      });
      resolve(socket);
      socket.start(head.rest);
    }
    if (options.transport === undefined) transport.on(target.secure ? 'secureConnect' : 'connect', onConnect);
    transport.on('data', onData);
    transport.on('error', fail);
    transport.on('close', onClose);
    if (options.transport !== undefined) {
      // A given transport is connected already (and may have been paused by whoever opened it).
      if (transport.destroyed) fail(new HandshakeError(0, 'the given transport is closed'));
      else {
        transport.resume();
        onConnect();
      }
    }
  });
}
