import type { TrafficCounters } from '../node/socket.js';
import type { AdapterStats } from './topic-adapter.js';

/** What `server.stats()` returns: counters since the server was created, and current gauges. */
export interface ServerStats {
  /** WebSocket connections: open now, accepted and rejected since the start. */
  readonly connections: {
    /** Open sockets now. */
    readonly open: number;
    /** Sockets opened since the start. */
    readonly accepted: number;
    /** Upgrades answered 503 because of `maxConnections` / `maxConnectionsPerAddress`. */
    readonly rejected: {
      /** Refused because the server had `maxConnections` open. */
      readonly maxConnections: number;
      /** Refused because the client's address had `maxConnectionsPerAddress` open. */
      readonly maxConnectionsPerAddress: number;
    };
  };
  /** Messages since the start, over all sockets. */
  readonly messages: {
    /** Messages received. */
    readonly in: number;
    /** Messages written (a topic publish counts once per subscriber written to). */
    readonly out: number;
    /** Messages not written: over `maxBackpressure` (policy 'drop' or 'close'), or to a closing socket. */
    readonly dropped: {
      /** Not written because the socket was over `maxBackpressure`. */
      readonly backpressure: number;
      /** Not written because the socket was closing. */
      readonly closing: number;
    };
  };
  /** Bytes on the wire (frame headers included), after the opening handshake. */
  readonly bytes: {
    /** Bytes received. */
    readonly in: number;
    /** Bytes written. */
    readonly out: number;
  };
  /** Sockets closed with 1013 by the 'close' backpressure policy. */
  readonly slowConsumerCloses: number;
  /** The server's heartbeat (`heartbeat` option). */
  readonly heartbeats: {
    /** Pings sent to sockets that had been silent. */
    readonly pings: number;
    /** Sockets dropped because nothing (not even a pong) came back in time. */
    readonly timeouts: number;
  };
  /** Sockets closed by `idleTimeout`. */
  readonly idleCloses: number;
  /** Times a quiet socket's zlib contexts were freed (permessage-deflate `releaseAfter`). */
  readonly compressionReleases: number;
  /** Topics of this process. */
  readonly topics: {
    /** Topics with at least one subscriber here. */
    readonly count: number;
    /** Subscriptions here, over all topics. */
    readonly subscriptions: number;
    /** Messages published here (not those that came through the adapter). */
    readonly published: number;
    /** Publishes the topic adapter refused or could not carry (each reported). */
    readonly publishFailures: number;
    /** `subscribe(topic, { since })` outcomes: every missed message replayed (hits) or not (misses). */
    readonly recovery: {
      /** Subscriptions whose missed messages were all replayed. */
      readonly hits: number;
      /** Subscriptions whose missed messages could not all be replayed. */
      readonly misses: number;
    };
  };
  /** The topic adapter's
 state and counters (Redis link, queue, ...); null without one. */
  readonly adapter: AdapterStats | null;
  /** Closed sockets by the code their close handler saw (1006: no close frame). */
  readonly closes: Readonly<Record<string, number>>;
  /** Seconds since the server was created. */
  readonly uptime: number;
}

/** The server's counters; sockets add their traffic to it directly (it is their `TrafficCounters`). */
export class StatsCollector implements TrafficCounters {
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  droppedBackpressure = 0;
  droppedClosing = 0;
  slowConsumerCloses = 0;
  accepted = 0;
  rejectedMaxConnections = 0;
  rejectedPerAddress = 0;
  heartbeatPings = 0;
  heartbeatTimeouts = 0;
  idleCloses = 0;
  compressionReleases = 0;
  readonly closes = new Map<number, number>();
  private readonly started = Date.now();

  closed(code: number): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
  }

  snapshot(gauges: {
    open: number;
    topics: number;
    subscriptions: number;
    published: number;
    publishFailures: number;
    recovery: { readonly hits: number; readonly misses: number };
    adapter: AdapterStats | null;
  }): ServerStats {
    const closes: Record<string, number> = {};
    for (const code of [...this.closes.keys()].sort((a, b) => a - b)) closes[code] = this.closes.get(code)!;
    return {
      connections: {
        open: gauges.open,
        accepted: this.accepted,
        rejected: {
          maxConnections: this.rejectedMaxConnections,
          maxConnectionsPerAddress: this.rejectedPerAddress,
        },
      },
      messages: {
        in: this.messagesIn,
        out: this.messagesOut,
        dropped: { backpressure: this.droppedBackpressure, closing: this.droppedClosing },
      },
      bytes: { in: this.bytesIn, out: this.bytesOut },
      slowConsumerCloses: this.slowConsumerCloses,
      heartbeats: { pings: this.heartbeatPings, timeouts: this.heartbeatTimeouts },
      idleCloses: this.idleCloses,
      compressionReleases: this.compressionReleases,
      topics: {
        count: gauges.topics,
        subscriptions: gauges.subscriptions,
        published: gauges.published,
        publishFailures: gauges.publishFailures,
        recovery: { hits: gauges.recovery.hits, misses: gauges.recovery.misses },
      },
      adapter: gauges.adapter,
      closes,
      uptime: (Date.now() - this.started) / 1000,
    };
  }
}
