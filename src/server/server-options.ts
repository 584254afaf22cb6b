import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { SocketSettings } from '../node/socket.js';
import type { PerMessageDeflateOptions } from '../protocol/extensions/negotiation.js';
import type { ConnectionLimits } from '../protocol/limits.js';
import type { ProxyHeader, TrustProxy } from './client-address.js';
import type { ServerErrorContext } from './errors.js';
import type { Http2Limits } from './http2-intake.js';
import type { RealtimeRouteOptions, RealtimeServerOptions } from './realtime.js';
import type { ServerHandlers } from './server-socket.js';
import type { UpgradeHook } from './upgrade.js';

/** Options of a server; every field has a default. */
export interface ServerOptions
  extends Partial<ConnectionLimits>,
    Partial<SocketSettings>,
    RealtimeServerOptions {
  /**
   * Origins allowed to connect (exact `Origin` values such as `https://example.com`), or a
   * function deciding. Others get 403. With a list, requests without an Origin header are
   * let through: browsers always send one, and other clients can send any value they like,
   * so authenticate those in the upgrade hook. Default: any origin.
   */
  readonly origins?: readonly string[] | ((origin: string | undefined) => boolean);
  /** Time for the request head (then 408) and, once it is read, for the upgrade hook (then 503). Default 10,000 ms. */
  readonly handshakeTimeout?: number;
  /** Most header fields in an upgrade request; more get 431. Default 100. */
  readonly maxHeaders?: number;
  /** Subprotocols every route supports unless it lists its own. */
  readonly protocols?: readonly string[];
  /**
   * permessage-deflate (RFC 7692): `true` (the default) accepts clients' offers with the
   * defaults below, `false` declines them, an object sets what is accepted. zlib contexts
   * are made on a socket's first compressed message and freed again when it has been quiet
   * for `releaseAfter`, so idle sockets hold none.
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Told of every error nobody else was: a route handler that threw when the route has no
   * `error` handler (the socket is failed with 1011), an `error` handler that threw, an
   * upgrade hook that threw (the request is answered 500), a topic adapter's failure, and the
   * server's own (an accept error). A route's `error` handler takes precedence: it gets the
   * exception (as an InternalError whose `cause` is what was thrown) and this is not called.
   * Default: `console.error`, one line saying which handler of which path threw, then the
   * error with its stack. Errors are never dropped silently.
   */
  readonly onError?: (error: Error, context: ServerErrorContext) => void;
  /**
   * Reverse proxies whose `proxyHeader` is believed: addresses, CIDR ranges, `'loopback'`,
   * `'private'`, or a function deciding. When the TCP peer is one of them, a socket's
   * `remoteAddress` (and `remotePort`, 0 when the header has none), the upgrade hook's
   * `remoteAddress` and `maxConnectionsPerAddress` use the client the header names: the
   * rightmost hop that is not itself a trusted proxy. A header from anyone else is ignored, and
   * so is one without a usable address there. Default: no proxy is trusted.
   */
  readonly trustProxy?: TrustProxy;
  /** The header trusted proxies set: `'x-forwarded-for'` (the default) or `'forwarded'` (RFC 7239). */
  readonly proxyHeader?: ProxyHeader;
  /** Limits of WebSockets over HTTP/2 (RFC 8441): streams and WebSockets per connection, header list size, early resets. */
  readonly http2?: Http2Limits;
}

/** A route: the handlers for its sockets, its upgrade hook, and what it supports. */
export interface RouteOptions<Data = unknown> extends ServerHandlers<Data>, RealtimeRouteOptions {
  /** Decides each upgrade: accept (with data, a subprotocol, headers) or reject with a status. */
  readonly upgrade?: UpgradeHook<Data>;
  /** Subprotocols this route supports: the first one the client offers is selected. */
  readonly protocols?: readonly string[];
  /** permessage-deflate for this route; defaults to the server's setting. */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** Where `listen` binds, and what it serves to plain HTTP requests. */
export interface ListenOptions {
  /** TCP port; default 0 (any free port: read it from what `listen` resolves with). */
  readonly port?: number;
  /** Address to bind; default `127.0.0.1` (loopback only: give `0.0.0.0` or `::` to serve others). */
  readonly host?: string;
  /** TLS options (`cert`, `key`, ...): listen for wss:// with an https server. */
  readonly tls?: HttpsServerOptions;
  /**
   * Serve HTTP/2 too (RFC 8441 WebSockets, and plain requests through `request`): with `tls`,
   * HTTP/2 and HTTP/1.1 on the same port (chosen by ALPN); without, HTTP/2 only, in cleartext
   * with prior knowledge (h2c, e.g. behind a proxy). Under HTTP/2, `request` receives Node's
   * compatibility request and response objects (`Http2ServerRequest`, `Http2ServerResponse`).
   * Default false.
   */
  readonly http2?: boolean;
  /** Handles plain HTTP requests; default answers 426 Upgrade Required. */
  readonly request?: (request: IncomingMessage, response: ServerResponse) => void;
  /**
   * @internal Read upgrade requests with Node's HTTP parser, as `attach` does, instead of
   * wsx's own request-head reader (for comparing the two).
   */
  readonly httpParser?: boolean;
}
