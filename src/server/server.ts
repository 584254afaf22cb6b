import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { DEFAULT_SOCKET_SETTINGS, type SocketOwner, type SocketSettings, toBytes } from '../node/socket.js';
import {
  type PerMessageDeflateOptions,
  releaseAfterOf,
  serverDeflateOptions,
} from '../protocol/extensions/negotiation.js';
import { DEFAULT_HEAD_LIMITS } from '../protocol/handshake/http-head.js';
import { type ConnectionLimits, resolveLimits } from '../protocol/limits.js';
import { type ClientAddressResolver, clientAddressResolver } from './client-address.js';
import {
  asError,
  errorReporter,
  pathOf,
  type ServerErrorContext,
  type ServerErrorHandler,
} from './errors.js';
import { type AnyHttp2Server, Http2Intake } from './http2-intake.js';
import { isHttp2Server } from './http2-listen.js';
import { prometheusText } from './metrics.js';
import { Realtime, type ShutdownReport } from './realtime.js';
import { Router } from './router.js';
import { createAndListen } from './server-listen.js';
import type { ListenOptions, RouteOptions, ServerOptions } from './server-options.js';
import { shutdown } from './server-shutdown.js';
import type { ServerSocket, TopicHub } from './server-socket.js';
import { SocketList } from './socket-list.js';
import type { ServerStats } from './stats.js';
import type { PublishResult } from './topics.js';
import { type ResolvedRoute, upgrade, upgradeParsed } from './upgrade-flow.js';
import type { UpgradeListener } from './upgrade-listener.js';

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
  /** @internal Routes by pattern, as the upgrade flow (`upgrade-flow.ts`) matches them. */
  readonly router = new Router<ResolvedRoute>();
  /** @internal */
  readonly limits: ConnectionLimits;
  /** @internal */
  readonly settings: SocketSettings;
  /** @internal Time for a request head, and then for the upgrade hook. */
  readonly handshakeTimeout: number;
  /** @internal */
  readonly maxHeaders: number;
  /** @internal */
  readonly originAllowed: (origin: string | undefined) => boolean;
  /** @internal Subprotocols of routes that list none. */
  readonly defaultProtocols: readonly string[] | undefined;
  private readonly perMessageDeflate: boolean | PerMessageDeflateOptions;
  /** @internal Open sockets. */
  readonly sockets = new SocketList<ServerSocket<unknown>>();
  /** @internal Servers `listen` made (HTTP/1.1, https), closed at shutdown. */
  readonly httpServers: HttpServer[] = [];
  /** @internal The request-head readers of the servers `listen` made. */
  readonly listeners: UpgradeListener[] = [];
  /** @internal The shutdown, once `close` was called: upgrade requests are then refused. */
  closing: Promise<ShutdownReport> | null = null;
  /** @internal Called by the shutdown once the last socket has closed. */
  emptied: (() => void) | null = null;
  /** The URL of the last socket opened (see `sharedUrl`). */
  private lastUrl = '';
  /** @internal Topics, heartbeats, connection limits and counters. */
  readonly realtime: Realtime;
  private readonly report: ServerErrorHandler;
  /** @internal Who the client is behind trusted proxies; null when no proxy is trusted. */
  readonly clientAddress: ClientAddressResolver | null;
  /** @internal WebSockets over HTTP/2 (RFC 8441). */
  readonly http2: Http2Intake;
  /** @internal HTTP/2 servers `listen` made, closed at shutdown. */
  readonly http2Servers: AnyHttp2Server[] = [];

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
    this.http2 = new Http2Intake(options.http2, (input, peer) => upgrade(this, input, peer, EMPTY));
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
    return createAndListen(this, options);
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
    upgradeParsed(this, request, transport, head);
  }

  /** @internal Most sockets of a server ask for one of a few URLs: one that asked for the last one opened shares its string. */
  sharedUrl(target: string): string {
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
    this.closing ??= shutdown(
      this,
      options.code ?? 1001,
      options.reason ?? 'server shutting down',
      options.timeout ?? this.settings.closeTimeout,
    );
    return this.closing;
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

const EMPTY = Buffer.alloc(0);
