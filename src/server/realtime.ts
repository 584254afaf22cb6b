import type { BackpressurePolicy, SocketPolicies } from '../node/socket.js';
import { HandshakeError } from '../protocol/errors.js';
import { type HeartbeatOptions, Sweeper } from './heartbeat.js';
import { ConnectionGate } from './limits.js';
import type { ServerSocket } from './server-socket.js';
import { type ServerStats, StatsCollector } from './stats.js';
import type { TopicAdapter } from './topic-adapter.js';
import { type TopicEnvelope, TopicRegistry } from './topics.js';

/** Real-time options a route can set; each falls back to the server's, then to the default. */
export interface RealtimeRouteOptions {
  /**
   * Buffered bytes past which messages to a socket are no longer written (a slow consumer):
   * `backpressurePolicy` says what happens instead. The check is made before each message, so
   * the buffer can exceed this by at most one message. Default: no limit (sends only report
   * `'backpressure'` past `backpressureLimit`).
   */
  readonly maxBackpressure?: number;
  /**
   * What to do with a socket over `maxBackpressure`. `'drop'` (the default): messages are
   * dropped for that socket, and `send`/`sendPrepared` return `'dropped'`, until its buffer
   * drains below the limit (the `drain` handler is told when it empties). `'close'`: the socket
   * is closed with 1013 (Try Again Later; reason 'slow consumer') behind what is already
   * buffered, so the client learns it missed messages and can reconnect and resync.
   */
  readonly backpressurePolicy?: BackpressurePolicy;
  /** Pings silent peers and terminates those that stay silent (see `HeartbeatOptions`). Default off. */
  readonly heartbeat?: HeartbeatOptions | false;
  /** Closes with 1001 'idle timeout' a socket with no message either way for this many ms. Default 0: off. */
  readonly idleTimeout?: number;
}

/** Real-time options of a server. */
export interface RealtimeServerOptions extends RealtimeRouteOptions {
  /** Most open connections; further upgrades get 503 (with `Retry-After`). Default: no limit. */
  readonly maxConnections?: number;
  /** Most open connections from one remote address; further upgrades get 503. Default: no limit. */
  readonly maxConnectionsPerAddress?: number;
  /** Carries topics to other processes (e.g. over Redis). Default: none, topics are local. */
  readonly topicAdapter?: TopicAdapter;
  /**
   * Shapes each topic message for the wire, once per message: e.g. a JSON envelope carrying
   * the message's offset and epoch, so clients can resume with `subscribe(topic, { since })`.
   * Default: the payload as published.
   */
  readonly topicEnvelope?: TopicEnvelope;
  /** Most messages one `subscribe(topic, { since })` replays; a longer gap is not recovered. Default 10,000. */
  readonly maxRecovery?: number;
  /** Period of the heartbeat and idle sweep in ms. Default: a quarter of the shortest duration, 10 ms to 1 s. */
  readonly heartbeatResolution?: number;
}

/** What `server.close()` resolves with. */
export interface ShutdownReport {
  /** Sockets that completed the closing handshake: they received everything sent before it. */
  closedCleanly: number;
  /** Sockets that closed during the shutdown without a closing handshake (the peer went away). */
  closedUncleanly: number;
  /** Sockets still open at the deadline, dropped without a closing handshake. */
  terminated: number;
  /**
   * What was written but had not reached the operating system when a socket was dropped (its
   * `bufferedAmount` then): sockets with bytes left over, and those bytes. Bytes already in
   * the kernel's send buffer count as delivered.
   */
  undelivered: {
    /** Sockets dropped with bytes still buffered. */
    sockets: number;
    /** Those bytes, summed. */
    bytes: number;
  };
}

/**
 * The real-time parts of a server gathered in one place: topics, stats, connection limits,
 * the heartbeat sweep and the shutdown report. The server holds one and calls it at the
 * handshake, when a socket opens and closes, and when it shuts down.
 */
export class Realtime {
  readonly stats = new StatsCollector();
  readonly topics: TopicRegistry;
  private readonly gate: ConnectionGate;
  private readonly sweeper: Sweeper;
  private readonly defaults: RealtimeRouteOptions;
  private report: ShutdownReport | null = null;

  constructor(
    options: RealtimeServerOptions,
    sockets: Iterable<ServerSocket<unknown>>,
    report?: (error: Error) => void,
  ) {
    this.defaults = options;
    this.topics = new TopicRegistry(options.topicAdapter ?? null, {
      envelope: options.topicEnvelope,
      maxRecovery: options.maxRecovery,
      report,
    });
    this.gate = new ConnectionGate(options.maxConnections, options.maxConnectionsPerAddress);
    this.sweeper = new Sweeper(sockets, this.stats, options.heartbeatResolution);
  }

  /** The policies shared by the sockets of a route with these options. */
  policiesFor(route: RealtimeRouteOptions, compressionIdle = 0): SocketPolicies {
    const defaults = this.defaults;
    const maxBackpressure = route.maxBackpressure ?? defaults.maxBackpressure ?? Number.POSITIVE_INFINITY;
    if (!(maxBackpressure >= 0)) throw new RangeError(`maxBackpressure must be >= 0, got ${maxBackpressure}`);
    const backpressurePolicy = route.backpressurePolicy ?? defaults.backpressurePolicy ?? 'drop';
    if (backpressurePolicy !== 'drop' && backpressurePolicy !== 'close') {
      throw new RangeError(`backpressurePolicy must be 'drop' or 'close', got ${String(backpressurePolicy)}`);
    }
    const heartbeat = route.heartbeat ?? defaults.heartbeat ?? false;
    if (heartbeat !== false) {
      for (const key of ['interval', 'timeout'] as const) {
        const value = heartbeat[key];
        if (!Number.isFinite(value) || value <= 0) {
          throw new RangeError(`heartbeat.${key} must be a positive number of ms, got ${value}`);
        }
      }
    }
    const idleTimeout = route.idleTimeout ?? defaults.idleTimeout ?? 0;
    if (!(idleTimeout >= 0) || !Number.isFinite(idleTimeout)) {
      throw new RangeError(`idleTimeout must be >= 0 ms, got ${idleTimeout}`);
    }
    const policies: SocketPolicies = Object.freeze({
      maxBackpressure,
      backpressurePolicy,
      heartbeat:
        heartbeat === false
          ? null
          : Object.freeze({ interval: heartbeat.interval, timeout: heartbeat.timeout }),
      idleTimeout,
      compressionIdle,
      counters: this.stats,
    });
    this.sweeper.add(policies);
    return policies;
  }

  /** The 503 for an upgrade from `address` over a connection limit, or null. Counted. */
  refusal(address: string): HandshakeError | null {
    const reason = this.gate.refusal(address);
    if (reason === null) return null;
    if (reason === 'maxConnections') this.stats.rejectedMaxConnections++;
    else this.stats.rejectedPerAddress++;
    return new HandshakeError(
      503,
      reason === 'maxConnections' ? 'too many connections' : 'too many connections from this address',
      { headers: { 'Retry-After': '5' } },
    );
  }

  /** A socket is about to open: takes its connection slot. */
  opened(socket: ServerSocket<unknown>): void {
    this.gate.acquire(socket);
    this.stats.accepted++;
  }

  /** A socket has closed with `code` (as its close handler saw it). */
  closed(socket: ServerSocket<unknown>, code: number): void {
    this.gate.release(socket);
    this.topics.unsubscribeAll(socket);
    this.stats.closed(code);
    const report = this.report;
    if (report === null) return;
    if (socket.wasClean) {
      report.closedCleanly++;
    } else {
      report.closedUncleanly++;
      const left = socket.bufferedAmount;
      if (left > 0) {
        report.undelivered.sockets++;
        report.undelivered.bytes += left;
      }
    }
  }

  /** Shutdown begins: closes from now on are tallied in the report. */
  beginShutdown(): ShutdownReport {
    this.report = {
      closedCleanly: 0,
      closedUncleanly: 0,
      terminated: 0,
      undelivered: { sockets: 0, bytes: 0 },
    };
    return this.report;
  }

  /** The deadline has passed: drops the sockets left, recording what they still had to send. */
  terminate(sockets: Iterable<ServerSocket<unknown>>): void {
    const report = this.report;
    this.report = null;
    for (const socket of [...sockets]) {
      if (report !== null) {
        report.terminated++;
        const left = socket.bufferedAmount;
        if (left > 0) {
          report.undelivered.sockets++;
          report.undelivered.bytes += left;
        }
      }
      socket.terminate();
    }
  }

  /** Stops the sweep and the topic adapter. */
  async stop(): Promise<void> {
    this.report = null;
    this.sweeper.stop();
    await this.topics.close();
  }

  snapshot(open: number): ServerStats {
    return this.stats.snapshot({
      open,
      topics: this.topics.topicCount,
      subscriptions: this.topics.subscriptions,
      published: this.topics.published,
      publishFailures: this.topics.publishFailures,
      recovery: this.topics.recoveryCounts,
      adapter: this.topics.adapterStats(),
    });
  }
}
