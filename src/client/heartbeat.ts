import { WebSocketError } from '../protocol/errors.js';

/** No pong came back within the heartbeat's timeout: the connection is taken as dead. */
export class HeartbeatTimeoutError extends WebSocketError {
  constructor(timeout: number) {
    super('WSX_HEARTBEAT_TIMEOUT', `no pong within ${timeout} ms: the connection is dead`);
  }
}

export interface HeartbeatOptions {
  /** Milliseconds between pings. */
  readonly interval: number;
  /** Milliseconds to wait for the pong of each ping (default: `interval`). */
  readonly timeout?: number | undefined;
}

/**
 * A client heartbeat: pings every `interval` ms and calls `dead` when a pong has not come
 * back within `timeout` ms. The owner calls `pong()` whenever a pong arrives and `stop()`
 * when the connection closes. Timers are unref'd: they never keep a process alive.
 */
export class Heartbeat {
  private readonly interval: number;
  private readonly timeout: number;
  private readonly ping: () => void;
  private readonly dead: (error: HeartbeatTimeoutError) => void;
  private intervalTimer: NodeJS.Timeout | null = null;
  private pongTimer: NodeJS.Timeout | null = null;

  constructor(options: HeartbeatOptions, ping: () => void, dead: (error: HeartbeatTimeoutError) => void) {
    if (!(options.interval > 0)) throw new RangeError('heartbeat interval must be positive');
    this.interval = options.interval;
    this.timeout = options.timeout ?? options.interval;
    this.ping = ping;
    this.dead = dead;
  }

  start(): void {
    if (this.intervalTimer !== null) return;
    this.intervalTimer = setInterval(() => this.beat(), this.interval);
    this.intervalTimer.unref();
  }

  /** A pong arrived: the connection is alive. */
  pong(): void {
    if (this.pongTimer !== null) {
      clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
  }

  stop(): void {
    if (this.intervalTimer !== null) clearInterval(this.intervalTimer);
    this.intervalTimer = null;
    this.pong();
  }

  private beat(): void {
    if (this.pongTimer !== null) return; // still waiting for the last pong
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null;
      this.stop();
      this.dead(new HeartbeatTimeoutError(this.timeout));
    }, this.timeout);
    this.pongTimer.unref();
    this.ping();
  }
}

/** Starts a heartbeat that pings `socket` (a WebSocket's `pingInterval` option). */
export function startHeartbeat(
  socket: { ping(): unknown },
  interval: number,
  timeout: number | undefined,
  dead: (error: HeartbeatTimeoutError) => void,
): Heartbeat {
  const heartbeat = new Heartbeat(
    { interval, timeout },
    () => {
      socket.ping();
    },
    dead,
  );
  heartbeat.start();
  return heartbeat;
}
