/**
 * One direction of an IPC channel (a worker to the primary, or the primary to one worker) with
 * a bound on what may wait in it. `process.send` and `worker.send` queue every message they are
 * given and only return false once the channel's backlog is large: a peer that stops reading
 * would otherwise let the sender's memory grow without bound. Past the bound, publishes are
 * refused and counted (never dropped silently); control messages (subscribe, unsubscribe) always
 * go, since losing one would leave a topic wrong for good and they are few (one per topic).
 */

/** Anything with the `send` of a child process, a cluster worker or `process` in a worker. */
export interface IpcEndpoint {
  /** Node's `send` of an IPC channel (absent when the process has no channel). */
  send?(
    message: unknown,
    sendHandle?: undefined,
    options?: object,
    callback?: (error: Error | null) => void,
  ): boolean;
}

/** Payload bytes that may be waiting in one direction of a channel before publishes are refused. */
export const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;

export class BoundedIpcSender {
  /** Publishes handed to the channel. */
  sent = 0;
  /** Publishes refused because the channel was backed up (or closed). */
  dropped = 0;
  private pendingBytes = 0;
  /**
   * Sends that returned false and are not written yet: while there are any, the channel is
   * backed up (callbacks come in order, so once they are written the backlog has drained).
   */
  private backlogged = 0;
  private readonly endpoint: IpcEndpoint;
  private readonly maxPendingBytes: number;
  private readonly warn: DropWarning;

  constructor(endpoint: IpcEndpoint, maxPendingBytes: number, warn: DropWarning) {
    this.endpoint = endpoint;
    this.maxPendingBytes = maxPendingBytes;
    this.warn = warn;
  }

  /** Sends a control message; false if the channel is closed. */
  control(message: unknown): boolean {
    return this.write(message, 0);
  }

  /** Sends a publish of `size` payload bytes unless the channel is backed up; false if refused. */
  publish(message: unknown, size: number): boolean {
    // One message larger than the bound may go into an empty channel, or it could never go.
    const over = this.pendingBytes > 0 && this.pendingBytes + size > this.maxPendingBytes;
    if (this.backlogged > 0 || over || !this.write(message, size)) {
      this.dropped++;
      this.warn.note();
      return false;
    }
    this.sent++;
    return true;
  }

  private write(message: unknown, size: number): boolean {
    const send = this.endpoint.send;
    if (send === undefined) return false;
    this.pendingBytes += size;
    let written = false;
    let refused = false;
    const done = () => {
      // Called once the message is written (or failed): it no longer takes memory here.
      if (written) return;
      written = true;
      this.pendingBytes -= size;
      if (refused) this.backlogged--;
    };
    try {
      if (!send.call(this.endpoint, message, undefined, {}, done) && !written) {
        refused = true;
        this.backlogged++;
      }
    } catch {
      // The channel is closed (ERR_IPC_CHANNEL_CLOSED): nothing was queued.
      done();
      return false;
    }
    return true;
  }
}

/**
 * A stderr line about refused publishes, at most one per `intervalMs`: the first drop is told at
 * once, later ones are summed and told when the interval ends.
 */
export class DropWarning {
  private untold = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly what: string;
  private readonly why: string;
  private readonly intervalMs: number;

  constructor(what: string, why: string, intervalMs = 10_000) {
    this.what = what;
    this.why = why;
    this.intervalMs = intervalMs;
  }

  note(): void {
    this.untold++;
    if (this.timer === null) this.flush();
  }

  private flush(): void {
    this.timer = null;
    if (this.untold === 0) return;
    process.stderr.write(`wsx: ${this.what}: ${this.untold} publish(es) not relayed: ${this.why}\n`);
    this.untold = 0;
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
    // A pending line must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
