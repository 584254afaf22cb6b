import type { Socket, SocketPolicies } from '../node/socket.js';
import type { StatsCollector } from './stats.js';

/** Heartbeat timing, in milliseconds. */
export interface HeartbeatOptions {
  /** A peer silent for this long is pinged. */
  readonly interval: number;
  /** A peer still silent this long after the ping is terminated (its close handler sees 1006). */
  readonly timeout: number;
}

/** Durations converted to sweeps; 0 turns a check off. */
interface Plan {
  readonly ping: number;
  readonly dead: number;
  readonly idle: number;
  readonly release: number;
}

const NO_PLAN: Plan = Object.freeze({ ping: 0, dead: 0, idle: 0, release: 0 });
const MIN_RESOLUTION = 10;
const MAX_RESOLUTION = 1_000;

/**
 * Heartbeats and idle timeouts for every socket of a server, on ONE timer. Each sweep walks
 * the server's sockets and counts, per socket, sweeps since the peer last showed life
 * (`silentSweeps`, reset by the socket when bytes arrive, and when the peer has taken all
 * that was buffered for it: reading may be paused while our writes are backed up) and sweeps since a message went
 * either way (`idleSweeps`, reset on each message). No per-socket timer or closure: two small
 * integers on the socket. The sweep period is a quarter of the shortest duration in use
 * (10 ms to 1 s), so times are kept to within that.
 *
 * - Silent for `interval`: ping (once; any bytes from the peer, the pong included, reset it).
 * - Silent for `interval + timeout`: terminated without a closing handshake. A peer that does
 *   not answer pings will not answer a close frame either; waiting for one would only hold the
 *   socket for `closeTimeout` more. The close handler sees 1006 (abnormal closure).
 * - No message either way for `idleTimeout`: closed with 1001 (going away), reason 'idle timeout'.
 * - No message either way for `compressionIdle`: zlib contexts freed (rebuilt on the next message).
 */
export class Sweeper {
  private readonly sockets: Iterable<Socket<unknown>>;
  private readonly stats: StatsCollector;
  private readonly plans = new Map<SocketPolicies, Plan>();
  private readonly fixedResolution: number | undefined;
  private resolution = MAX_RESOLUTION;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(sockets: Iterable<Socket<unknown>>, stats: StatsCollector, resolution?: number) {
    this.sockets = sockets;
    this.stats = stats;
    if (resolution !== undefined) {
      if (!(resolution >= 1))
        throw new RangeError(`heartbeatResolution must be at least 1 ms, got ${resolution}`);
      this.fixedResolution = resolution;
      this.resolution = resolution;
    }
  }

  /** Registers a route's policies; starts the timer (or makes it finer) when they need it. */
  add(policies: SocketPolicies): void {
    const durations: number[] = [];
    if (policies.heartbeat !== null) durations.push(policies.heartbeat.interval, policies.heartbeat.timeout);
    if (policies.idleTimeout > 0) durations.push(policies.idleTimeout);
    if (policies.compressionIdle > 0) durations.push(policies.compressionIdle);
    if (durations.length === 0) {
      this.plans.set(policies, NO_PLAN);
      return;
    }
    if (this.fixedResolution === undefined) {
      const wanted = Math.min(
        MAX_RESOLUTION,
        Math.max(MIN_RESOLUTION, Math.floor(Math.min(...durations) / 4)),
      );
      if (wanted < this.resolution) {
        this.resolution = wanted;
        // Durations already converted are converted again for the finer sweep.
        for (const known of this.plans.keys()) this.plans.set(known, this.plan(known));
      }
    }
    this.plans.set(policies, this.plan(policies));
    this.restart();
  }

  private plan(policies: SocketPolicies): Plan {
    const sweeps = (ms: number) => Math.max(1, Math.round(ms / this.resolution));
    const heartbeat = policies.heartbeat;
    if (heartbeat === null && policies.idleTimeout <= 0 && policies.compressionIdle <= 0) return NO_PLAN;
    const ping = heartbeat === null ? 0 : sweeps(heartbeat.interval);
    return {
      ping,
      dead: heartbeat === null ? 0 : ping + sweeps(heartbeat.timeout),
      idle: policies.idleTimeout > 0 ? sweeps(policies.idleTimeout) : 0,
      release: policies.compressionIdle > 0 ? sweeps(policies.compressionIdle) : 0,
    };
  }

  private restart(): void {
    if (this.stopped) return;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = setInterval(sweep, this.resolution, this);
    this.timer.unref();
  }

  /** One pass over the sockets. */
  sweep(): void {
    const stats = this.stats;
    let lastPolicies: SocketPolicies | null = null;
    let plan = NO_PLAN;
    for (const socket of this.sockets) {
      const policies = socket.policies;
      if (policies !== lastPolicies) {
        lastPolicies = policies;
        plan = this.plans.get(policies) ?? NO_PLAN;
      }
      if (plan === NO_PLAN || socket.readyState !== 'open') continue;
      if (plan.dead !== 0) {
        const silent = ++socket.silentSweeps;
        if (silent >= plan.dead) {
          stats.heartbeatTimeouts++;
          socket.terminate();
          continue;
        }
        if (silent === plan.ping) {
          stats.heartbeatPings++;
          socket.ping();
        }
      }
      if (plan.idle === 0 && plan.release === 0) continue;
      const idle = ++socket.idleSweeps;
      // Once per quiet spell: the counter restarts with the next message.
      if (idle === plan.release && socket.hibernate()) stats.compressionReleases++;
      if (plan.idle !== 0 && idle >= plan.idle) {
        stats.idleCloses++;
        socket.close(1001, 'idle timeout');
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function sweep(sweeper: Sweeper): void {
  sweeper.sweep();
}
