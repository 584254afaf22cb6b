import type { ConnectOptions } from '../../client/connect.js';
import { parseClientUrl } from '../../client/url.js';
import type { Socket } from '../../node/socket.js';
import { connectFailure } from '../failures.js';
import type { Tally } from './tally.js';
import type { WorkerPlan } from './worker-messages.js';

/** How long the server gets to answer our close frames before the connections are dropped. */
const CLOSE_WAIT_MS = 5_000;

/** The client options of a plan, for every connection of the run. */
export function clientOptions<Data>(plan: WorkerPlan): ConnectOptions<Data> {
  return {
    protocols: plan.protocols,
    headers: plan.headers,
    perMessageDeflate: plan.deflate,
    tls: plan.tls,
    // A load test sends what it was asked to, however much is buffered.
    backpressureLimit: Number.POSITIVE_INFINITY,
  };
}

/** One line for a failed connection attempt, as `wsx connect` would say it. */
export function describeConnectFailure(error: unknown, url: string): string {
  return connectFailure(error, parseClientUrl(url));
}

/**
 * The open connections of one worker. Sockets are added when they open and removed by the
 * mode's `close` handler; `closing` tells that handler whether we asked for the close.
 */
export class Connections<Data> {
  readonly open = new Set<Socket<Data>>();
  closing = false;
  private emptied: (() => void) | null = null;

  add(socket: Socket<Data>): void {
    this.open.add(socket);
  }

  remove(socket: Socket<Data>): void {
    this.open.delete(socket);
    if (this.open.size === 0) this.emptied?.();
  }

  /**
   * Opens `count` connections, `concurrency` at a time; `dial(i)` opens the i-th. A failure is
   * counted as a `connect` error and the rest go on.
   */
  async openAll(
    count: number,
    concurrency: number,
    dial: (i: number) => Promise<Socket<Data>>,
    tally: Tally,
    url: string,
  ): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count && !this.closing) {
        const i = next++;
        try {
          this.add(await dial(i));
        } catch (error) {
          tally.error('connect', describeConnectFailure(error, url));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(count, concurrency) }, lane));
  }

  /** Closes every connection with 1000; those whose close has not completed in 5 s are dropped. */
  async closeAll(): Promise<void> {
    this.closing = true;
    if (this.open.size === 0) return;
    const empty = new Promise<void>((resolve) => {
      this.emptied = resolve;
    });
    for (const socket of this.open) socket.close(1000);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([empty, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    for (const socket of this.open) socket.terminate();
  }
}
