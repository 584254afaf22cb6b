import type { Tally } from './tally.js';
import type { WorkerPlan } from './worker-messages.js';

/** What a mode's code in a worker is given. */
export interface ModeContext {
  readonly plan: WorkerPlan;
  readonly tally: Tally;
  /** The worker has done its `plan.limit` of operations and has nothing in flight. */
  finished(): void;
  /** Broadcast: every subscriber of this worker has received publish `seq` or a later one. */
  watermark(seq: number): void;
}

/** One mode's work in a worker, driven by the primary's messages. */
export interface ModeRun {
  /** Opens the worker's connections (connect mode: nothing). */
  prepare(): Promise<void>;
  /** Traffic begins. */
  start(): void;
  /** Traffic ends: waits for what is in flight (a bounded time), then closes every connection. */
  stop(): Promise<void>;
  /** Connections open now. */
  readonly open: number;
}

/** Resolves once `condition()` holds (checked when `poke` is called) or after `ms`. */
export class Waiter {
  private wake: (() => void) | null = null;

  constructor(private readonly condition: () => boolean) {}

  /** Call when what the condition reads may have changed. */
  poke(): void {
    if (this.wake !== null && this.condition()) this.wake();
  }

  wait(ms: number): Promise<void> {
    if (this.condition()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
