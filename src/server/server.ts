import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { publishHandshakeRejected } from '../node/diagnostics.js';
import {
  DEFAULT_SOCKET_SETTINGS,
  type SocketOwner,
  type SocketPolicies,
  type SocketSettings,
  toBytes,
} from '../node/socket.js';
import { HandshakeError } from '../protocol/errors.js';
import {
  acceptOffer,
  type PerMessageDeflateOptions,
  releaseAfterOf,
  serverDeflateOptions,
} from '../protocol/extensions/negotiation.js';
import { validateExtendedConnect } from '../protocol/handshake/extended-connect.js';
import { formatExtensions, HeaderMap } from '../protocol/handshake/headers.js';
import { DEFAULT_HEAD_LIMITS } from '../protocol/handshake/http-head.js';
import { type RequestHead, upgradeBodyRefusal } from '../protocol/handshake/request-head.js';
import { type UpgradeRequest, validateUpgradeRequest } from '../protocol/handshake/server.js';
import { type ConnectionLimits, resolveLimits } from '../protocol/limits.js';
import {
  type ClientAddressResolver,
  clientAddressResolver,
  type ProxyHeader,
  type RemoteEndpoint,
  type TrustProxy,
} from './client-address.js';
import {
  asError,
  errorReporter,
  pathOf,
  type ServerErrorContext,
  type ServerErrorHandler,
} from './errors.js';
import { type AnyHttp2Server, Http2Intake, type Http2Limits } from './http2-intake.js';
import { createHttp2Listener, isHttp2Server } from './http2-listen.js';
import { incomingMessageFor } from './incoming-message.js';
import { prometheusText } from './metrics.js';
import {
  Realtime,
  type RealtimeRouteOptions,
  type RealtimeServerOptions,
  type ShutdownReport,
} from './realtime.js';
import { type RouteMatch, Router } from './router.js';
import { type ServerHandlers, ServerSocket, type TopicHub } from './server-socket.js';
import { SocketList } from './socket-list.js';
import type { ServerStats } from './stats.js';
import type { PublishResult } from './topics.js';
import {
  selectProtocol,
  type UpgradeAcceptance,
  type UpgradeContext,
  type UpgradeHook,
  UpgradeRejection,
} from './upgrade.js';
import { UpgradeListener } from './upgrade-listener.js';
import { Http1Peer, type UpgradePeer } from './upgrade-peer.js';

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

/** An upgrade request, as Node's HTTP server or wsx's own reader read it, or an HTTP/2 extended CONNECT. */
export interface UpgradeInput {
  readonly method: string;
  readonly target: string;
  readonly httpVersion: string;
  /** The fields: Node's `rawHeaders` (its HTTP parser, HTTP/2), or the head wsx's reader read (fields indexed by name). */
  readonly fields: readonly string[] | RequestHead;
  /** Node's request object; made on demand for heads wsx read itself. */
  readonly request: IncomingMessage | (() => IncomingMessage);
  /** Refuse a body: after a head read by wsx, the bytes that follow are taken as frames. */
  readonly noBody: boolean;
}

interface ResolvedRoute {
  readonly options: RouteOptions<unknown>;
  readonly policies: SocketPolicies;
  /** permessage-deflate as this route answers offers, resolved once. */
  readonly deflate: PerMessageDeflateOptions;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/**
 * A WebSocket server: routes upgrade requests by path to shared handler objects. It can
 * listen by itself (`listen`), attach to an existing http/https server (`attach`), or take
 * upgrades from a framework (`handleUpgrade`). Made by {@link createServer}.
 *
 * @example
 * ```ts
 * import { createServer } from 'wsx';
 * const server = createServer({ maxMessageSize: 1024 * 1024 });
 * server.route('/echo', { message: (socket, data, isBinary) => socket.send(data, { binary: isBinary }) });
 * const { port } = await server.listen({ port: 8080 });
 * console.log(`ws://127.0.0.1:${port}/echo`);
 * process.once('SIGTERM', () => void server.close());
 * ```
 */
export class WebSocketServer implements SocketOwner {
  private readonly router = new Router<ResolvedRoute>();
  private readonly limits: ConnectionLimits;
  private readonly settings: SocketSettings;
  private readonly handshakeTimeout: number;
  private readonly maxHeaders: number;
  private readonly originAllowed: (origin: string | undefined) => boolean;
  private readonly defaultProtocols: readonly string[] | undefined;
  private readonly perMessageDeflate: boolean | PerMessageDeflateOptions;
  private readonly sockets = new SocketList<ServerSocket<unknown>>();
  private readonly httpServers: HttpServer[] = [];
  private readonly listeners: UpgradeListener[] = [];
  private closing: Promise<ShutdownReport> | null = null;
  private emptied: (() => void) | null = null;
  /** The URL of the last socket opened (see `sharedUrl`). */
  private lastUrl = '';
  private readonly realtime: Realtime;
  private readonly report: ServerErrorHandler;
  private readonly clientAddress: ClientAddressResolver | null;
  private readonly http2: Http2Intake;
  private readonly http2Servers: AnyHttp2Server[] = [];

  constructor(options: ServerOptions = {}) {
    this.report = errorReporter(options.onError);
    this.limits = resolveLimits(options);
    this.settings = {
      closeTimeout: options.closeTimeout ?? DEFAULT_SOCKET_SETTINGS.closeTimeout,
      backpressureLimit: options.backpressureLimit ?? DEFAULT_SOCKET_SETTINGS.backpressureLimit,
    };
    this.handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.maxHeaders = options.maxHeaders ?? DEFAULT_HEAD_LIMITS.maxHeaders;
    this.defaultProtocols = options.protocols;
    this.perMessageDeflate = options.perMessageDeflate ?? true;
    this.clientAddress = clientAddressResolver(options.trustProxy, options.proxyHeader);
    this.http2 = new Http2Intake(options.http2, (input, peer) => this.upgrade(input, peer, EMPTY));
    this.realtime = new Realtime(options, this.sockets, (error) =>
      this.reportError(error, { kind: 'topics' }),
    );
    const origins = options.origins;
    this.originAllowed =
      origins === undefined
        ? () => true
        : typeof origins === 'function'
          ? origins
          : (origin) => origin === undefined || origins.includes(origin);
  }

  /**
   * Adds a route. Patterns: `/chat`, `/rooms/:id`, `/files/*`, `/*` for every path.
   *
   * @throws TypeError for a pattern that does not start with `/`, has `*` other than at its end,
   *   or was added before; RangeError for an invalid option (e.g. a negative `idleTimeout`).
   */
  route<Data = unknown>(pattern: string, options: RouteOptions<Data>): this {
    const deflate = serverDeflateOptions(options.perMessageDeflate ?? this.perMessageDeflate);
    this.router.add(pattern, {
      options: options as RouteOptions<unknown>,
      policies: this.realtime.policiesFor(options, releaseAfterOf(deflate)),
      deflate,
    });
    this.http2.advertise();
    return this;
  }

  /**
   * @internal Reports an error to `onError` (or standard error), for the parts of the server
   * that have no caller to throw to: socket handlers, upgrade hooks, the topic adapter.
   */
  reportError(error: Error, context: ServerErrorContext): void {
    this.report(error, context);
  }

  /** @internal A socket's handler threw and no `error` handler of its route was told. */
  handlerThrew(socket: ServerSocket<unknown>, handler: string, error: unknown): void {
    this.report(asError(error), { kind: 'handler', handler, path: pathOf(socket.url), socket });
  }

  /** Open sockets. */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Publishes to every subscriber of `topic` (framed once for all). A string goes as text
   * unless `binary` is true; bytes go as binary unless `binary` is false. Returns how many
   * sockets of this server it was written to; a topic adapter carries it to other processes.
   */
  publish(
    topic: string,
    data: string | ArrayBufferView | ArrayBuffer,
    options?: { readonly binary?: boolean },
  ): number {
    const payload = typeof data === 'string' ? data : toBytes(data);
    return this.realtime.topics.publish(topic, payload, options?.binary, null);
  }

  /**
   * Like `publish`, but resolves once the topic adapter has taken the message, with its
   * position in the topic's history when the adapter keeps one (Redis streams), and rejects
   * when the adapter refused it (e.g. its link is down and its queue is full).
   */
  publishConfirmed(
    topic: string,
    data: string | ArrayBufferView | ArrayBuffer,
    options?: { readonly binary?: boolean },
  ): Promise<PublishResult> {
    const payload = typeof data === 'string' ? data : toBytes(data);
    return this.realtime.topics.publishConfirmed(topic, payload, options?.binary, null);
  }

  /** Subscribers of `topic` on this server. */
  subscribers(topic: string): number {
    return this.realtime.topics.subscribers(topic);
  }

  /** The sockets of this server subscribed to `topic` now (a copy, made at each call). */
  subscribersOf(topic: string): ReadonlySet<ServerSocket<unknown>> {
    return this.realtime.topics.subscribersOf(topic);
  }

  /** Topics with at least one subscriber on this server. */
  topics(): string[] {
    return this.realtime.topics.topicNames();
  }

  /** Counters and gauges: connections, messages and bytes, drops, heartbeats, topics, closes by code. */
  stats(): ServerStats {
    return this.realtime.snapshot(this.sockets.size);
  }

  /** `stats()` in the Prometheus text exposition format, metric names starting with `prefix`. */
  metrics(prefix = 'wsx'): string {
    return prometheusText(this.stats(), prefix);
  }

  /**
   * Creates an http (or, with `tls`, https) server, attaches to it and listens; by default on
   * a free port of 127.0.0.1. Rejects with the listen error (e.g. `EADDRINUSE`).
   */
  async listen(options: ListenOptions = {}): Promise<{
    /** The port bound. */
    port: number;
    /** The address bound. */
    host: string;
  }> {
    const onRequest = options.request ?? answerUpgradeRequired;
    // Node checks its header and request timeouts only every connectionsCheckingInterval
    // (30 s by default): check often enough for the handshake timeout to mean what it says.
    const checking = { connectionsCheckingInterval: Math.min(1_000, this.handshakeTimeout) };
    if (options.http2 === true) return this.listenHttp2(options, onRequest);
    const server = options.tls
      ? createHttpsServer({ ...checking, ...options.tls }, onRequest)
      : createHttpServer(checking, onRequest);
    // Slow senders of the request head are cut off by the handshake timeout.
    server.headersTimeout = this.handshakeTimeout;
    server.requestTimeout = this.handshakeTimeout;
    // Upgrade requests on connections the HTTP server serves (keep-alive) come this way.
    this.attach(server);
    this.httpServers.push(server);
    if (options.httpParser !== true) {
      // New connections are read by wsx's request-head reader; the HTTP server gets the rest.
      this.listeners.push(
        new UpgradeListener(server, options.tls ? 'secureConnection' : 'connection', {
          handshakeTimeout: this.handshakeTimeout,
          maxHeaderBytes: DEFAULT_HEAD_LIMITS.maxHeaderBytes,
          upgrade: (head, socket, rest) => this.upgradeRead(head, socket, rest),
        }),
      );
    }
    return this.bind(server, options);
  }

  /** `listen` with HTTP/2: h2 and HTTP/1.1 on one TLS port, or h2c alone. */
  private listenHttp2(
    options: ListenOptions,
    onRequest: NonNullable<ListenOptions['request']>,
  ): Promise<{ port: number; host: string }> {
    const server = createHttp2Listener(options.tls, this.http2.settings(), onRequest);
    this.attach(server);
    this.http2Servers.push(server);
    this.http2.own(server);
    if (options.tls !== undefined) {
      const http1 = server as unknown as HttpServer;
      http1.headersTimeout = this.handshakeTimeout;
      http1.requestTimeout = this.handshakeTimeout;
      // HTTP/1.1 connections of the shared port are read by wsx's request-head reader too.
      this.listeners.push(
        new UpgradeListener(http1, 'secureConnection', {
          handshakeTimeout: this.handshakeTimeout,
          maxHeaderBytes: DEFAULT_HEAD_LIMITS.maxHeaderBytes,
          upgrade: (head, socket, rest) => this.upgradeRead(head, socket, rest),
        }),
      );
    }
    return this.bind(server, options);
  }

  private async bind(
    server: HttpServer | AnyHttp2Server,
    options: ListenOptions,
  ): Promise<{ port: number; host: string }> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Once listening, an error (a failed accept when out of file descriptors) is reported
    // rather than thrown: the server goes on serving.
    server.on('error', (error) => this.report(error, { kind: 'server' }));
    const address = server.address() as AddressInfo;
    return { port: address.port, host: address.address };
  }

  /**
   * Takes the upgrade requests of an existing http or https server, or the extended CONNECTs
   * (RFC 8441) of an HTTP/2 server (and, with `allowHTTP1`, its HTTP/1.1 upgrades too). On an
   * HTTP/2 server it advertises SETTINGS_ENABLE_CONNECT_PROTOCOL once a route exists; the
   * server's own 'request' handler keeps every other stream.
   */
  attach(server: HttpServer | AnyHttp2Server): this {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.handleUpgrade(request, socket, head);
    });
    if (isHttp2Server(server)) this.http2.attach(server);
    return this;
  }

  /**
   * Handles one HTTP/2 stream from an app's own 'stream' handler: an extended CONNECT for a
   * WebSocket is served like an upgrade request (another `:protocol` gets 501). Returns false,
   * leaving the stream alone, for anything else. Not needed with `attach` or `listen`.
   */
  handleStream(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    rawHeaders?: readonly string[],
  ): boolean {
    return this.http2.take(stream, headers, rawHeaders);
  }

  /**
   * Handles one upgrade request from any framework: validates it (RFC 6455 §4.2.1), routes
   * it, runs the route's upgrade hook, then answers 101 and opens the socket — or answers
   * with the status of whatever refused it.
   */
  handleUpgrade(request: IncomingMessage, transport: Duplex, head: Buffer): void {
    const input: UpgradeInput = {
      method: request.method ?? '',
      target: request.url ?? '/',
      httpVersion: request.httpVersion,
      fields: request.rawHeaders,
      request,
      noBody: false,
    };
    this.upgrade(input, new Http1Peer(transport as NetSocket), head);
  }

  /** An upgrade request read by the listener of `listen()`; the socket is still being read. */
  private upgradeRead(head: RequestHead, socket: NetSocket, rest: Buffer): void {
    const input: UpgradeInput = {
      method: head.method,
      target: head.target,
      httpVersion: head.httpVersion,
      fields: head,
      request: () => incomingMessageFor(head, socket),
      noBody: true,
    };
    this.upgrade(input, new Http1Peer(socket, true), rest);
  }

  /** Takes an upgrade request (HTTP/1.1) or an extended CONNECT (HTTP/2), answered through `socket`. */
  private upgrade(input: UpgradeInput, socket: UpgradePeer, head: Buffer): void {
    try {
      const hook = this.upgradeOrHook(input, socket, head);
      if (hook !== undefined) hook.catch((error: unknown) => this.upgradeFailed(input, socket, error));
    } catch (error) {
      this.upgradeFailed(input, socket, error);
    }
  }

  /** The hook's own exceptions are reported in runHook; what reaches here is unexpected. */
  private upgradeFailed(input: UpgradeInput, socket: UpgradePeer, error: unknown): void {
    this.report(asError(error), { kind: 'server', path: pathOf(input.target) });
    refuse(socket, new HandshakeError(500, 'upgrade failed', { cause: error }));
  }

  /** Validates and routes; answers at once, or returns the promise of the route's upgrade hook. */
  private upgradeOrHook(input: UpgradeInput, socket: UpgradePeer, head: Buffer): Promise<void> | undefined {
    if (this.closing !== null) return refuse(socket, new HandshakeError(503, 'server is shutting down'));
    const fields = input.fields;
    const raw = Array.isArray(fields) ? (fields as readonly string[]) : null;
    if ((raw === null ? (fields as RequestHead).fieldCount : raw.length / 2) > this.maxHeaders) {
      return refuse(socket, new HandshakeError(431, `more than ${this.maxHeaders} header fields`));
    }
    const headers = raw === null ? (fields as RequestHead).headers : HeaderMap.fromRaw(raw);
    const peer = { address: socket.remoteAddress, port: socket.remotePort };
    const remote = this.clientAddress === null ? peer : this.clientAddress(peer, headers);
    const limited = this.realtime.refusal(remote.address);
    if (limited !== null) return refuse(socket, limited);
    const target = input.target;
    const queryStart = target.indexOf('?');
    const path = queryStart === -1 ? target : target.slice(0, queryStart);
    let offer: ReturnType<typeof validateUpgradeRequest>;
    try {
      offer =
        socket.httpVersion === '2'
          ? validateExtendedConnect(headers)
          : validateUpgradeRequest({ method: input.method, httpVersion: input.httpVersion, headers });
    } catch (error) {
      if (error instanceof HandshakeError) return refuse(socket, error);
      throw error;
    }
    if (input.noBody) {
      const body = upgradeBodyRefusal(headers);
      if (body !== null) return refuse(socket, body);
    }
    const match = this.router.match(path);
    if (match === null) return refuse(socket, new HandshakeError(404, `no WebSocket route for ${path}`));
    if (!this.originAllowed(offer.origin))
      return refuse(socket, new HandshakeError(403, 'origin not allowed'));
    if (match.value.options.upgrade === undefined) {
      this.open(socket, remote, head, target, offer, match, undefined);
      return undefined;
    }
    return this.runHook(input, socket, remote, head, headers, path, queryStart, offer, match);
  }

  private async runHook(
    input: UpgradeInput,
    socket: UpgradePeer,
    remote: RemoteEndpoint,
    head: Buffer,
    headers: HeaderMap,
    path: string,
    queryStart: number,
    offer: UpgradeRequest,
    match: RouteMatch<ResolvedRoute>,
  ): Promise<void> {
    const target = input.target;
    const made = input.request;
    let request = typeof made === 'function' ? null : made;
    const context: UpgradeContext = {
      get request(): IncomingMessage {
        request ??= (made as () => IncomingMessage)();
        return request;
      },
      path,
      query: new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1)),
      params: match.params,
      headers,
      origin: offer.origin,
      protocols: offer.protocols,
      remoteAddress: remote.address,
    };
    let decision: Awaited<ReturnType<UpgradeHook<unknown>>> | typeof TIMED_OUT;
    socket.hold();
    try {
      decision = await withTimeout(match.value.options.upgrade!(context), this.handshakeTimeout);
      const chosen =
        decision === TIMED_OUT || decision instanceof UpgradeRejection ? undefined : decision?.protocol;
      if (chosen != null && !offer.protocols.includes(chosen)) {
        throw new Error(`the upgrade hook chose subprotocol ${chosen}, which the client did not offer`);
      }
    } catch (error) {
      this.report(asError(error), { kind: 'handler', handler: 'upgrade', path });
      return refuse(socket, new HandshakeError(500, 'upgrade failed', { cause: error }));
    }
    if (decision === TIMED_OUT) return refuse(socket, new HandshakeError(503, 'upgrade hook timed out'));
    if (decision instanceof UpgradeRejection) {
      return refuse(
        socket,
        new HandshakeError(decision.status, decision.body, {
          headers: decision.headers as Record<string, string>,
        }),
        decision.body,
      );
    }
    if (socket.destroyed) return;
    // Checked again now that the hook has run: from here to the 101 nothing waits.
    const overLimit = this.realtime.refusal(remote.address);
    if (overLimit !== null) return refuse(socket, overLimit);
    this.open(socket, remote, head, target, offer, match, decision);
  }

  /** Answers 101 and opens the socket. */
  private open(
    socket: UpgradePeer,
    remote: RemoteEndpoint,
    head: Buffer,
    target: string,
    offer: UpgradeRequest,
    match: RouteMatch<ResolvedRoute>,
    acceptance: UpgradeAcceptance<unknown> | undefined,
  ): void {
    const route = match.value.options;
    let protocol: string | null;
    // runHook has checked that a subprotocol the hook chose is one the client offered.
    if (acceptance?.protocol !== undefined) {
      protocol = acceptance.protocol;
    } else {
      protocol = selectProtocol(offer.protocols, route.protocols ?? this.defaultProtocols);
    }

    const deflate = offer.extensions.length === 0 ? null : acceptOffer(offer.extensions, match.value.deflate);
    const extensions = deflate === null ? [] : [deflate.response];
    const transport = socket.accept({
      key: offer.key,
      protocol: protocol ?? undefined,
      extensions,
      headers: acceptance?.headers,
    });
    const ws = new ServerSocket<unknown>({
      role: 'server',
      transport,
      httpVersion: socket.httpVersion,
      remote,
      handlers: route,
      data: acceptance?.data,
      protocol: protocol ?? '',
      extensions: deflate === null ? '' : formatExtensions(extensions),
      deflate: deflate?.params,
      url: this.sharedUrl(target),
      settings: this.settings,
      limits: this.limits,
      owner: this,
      policies: match.value.policies,
    });
    this.realtime.opened(ws);
    this.sockets.add(ws);
    // Reads again after a hook held the peer back (a socket handed over by Node's HTTP
    // server is neither paused nor flowing). Not on a socket already flowing: `resume` would
    // still schedule a tick of stream work for it.
    if (transport.readableFlowing !== true) transport.resume();
    ws.start(head);
  }

  /** Most sockets of a server ask for one of a few URLs: one that asked for the last one opened shares its string. */
  private sharedUrl(target: string): string {
    if (target === this.lastUrl) return this.lastUrl;
    this.lastUrl = target;
    return target;
  }

  /** @internal The topic registry its sockets subscribe through. */
  get topicHub(): TopicHub {
    return this.realtime.topics;
  }

  /** @internal */
  socketClosed(socket: ServerSocket<unknown>, code: number): void {
    if (!this.sockets.delete(socket)) return;
    this.realtime.closed(socket, code);
    if (this.sockets.size === 0 && this.emptied !== null) this.emptied();
  }

  /**
   * Shuts down: stops accepting, sends `code` (1001 Going Away) to every socket behind what
   * is already queued for it, waits for their closing handshakes up to `timeout` ms, then
   * drops whatever is left. Resolves with a report: sockets closed cleanly (they received
   * everything sent before the close), closed uncleanly, terminated at the deadline, and the
   * bytes that were still buffered for sockets dropped without a clean close.
   */
  close(options: { code?: number; reason?: string; timeout?: number } = {}): Promise<ShutdownReport> {
    this.closing ??= this.shutdown(
      options.code ?? 1001,
      options.reason ?? 'server shutting down',
      options.timeout ?? this.settings.closeTimeout,
    );
    return this.closing;
  }

  private async shutdown(code: number, reason: string, timeout: number): Promise<ShutdownReport> {
    const report = this.realtime.beginShutdown();
    const stopped = this.httpServers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    if (this.sockets.size > 0) {
      const allClosed = new Promise<void>((resolve) => {
        this.emptied = resolve;
      });
      for (const socket of this.sockets) socket.close(code, reason);
      const outcome = await withTimeout(allClosed, timeout);
      if (outcome === TIMED_OUT) this.realtime.terminate(this.sockets);
    }
    for (const listener of this.listeners) listener.close();
    for (const server of this.httpServers) server.closeAllConnections();
    // HTTP/2: GOAWAY on every session, once its WebSockets have closed.
    const http2Stopped = this.http2Servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    await this.http2.closeSessions(timeout);
    this.http2.dropConnections();
    await Promise.all([...stopped, ...http2Stopped]);
    await this.realtime.stop();
    return report;
  }
}

/**
 * Creates a WebSocket server (see {@link WebSocketServer}). Options apply to every route; each
 * limit has a safe default (16 MiB messages, 5 s close timeout, 1 MiB backpressure limit...).
 *
 * @throws RangeError for an option out of range (e.g. `maxMessageSize: 0`).
 * @example
 * ```ts
 * import { createServer } from 'wsx';
 * const server = createServer({ heartbeat: { interval: 30_000, timeout: 10_000 } });
 * server.route('/chat', {
 *   open: (socket) => socket.subscribe('lobby'),
 *   message: (_socket, data, isBinary) => server.publish('lobby', data, { binary: isBinary }),
 * });
 * await server.listen({ port: 8080 });
 * ```
 */
export function createServer(options: ServerOptions = {}): WebSocketServer {
  return new WebSocketServer(options);
}

function answerUpgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(426, {
    'Content-Type': 'text/plain; charset=utf-8',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
  });
  response.end('This is a WebSocket endpoint: connect with a WebSocket client.\n');
}

function refuse(peer: UpgradePeer, error: HandshakeError, body = error.message): undefined {
  publishHandshakeRejected(error.status, error.message, peer.remoteAddress);
  peer.refuse(error, body);
}

const TIMED_OUT = Symbol('timed out');
const EMPTY = Buffer.alloc(0);

function withTimeout<T>(value: T | Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
    const timer = setTimeout(resolve, ms, TIMED_OUT);
    timer.unref();
    Promise.resolve(value).then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
