import type { SerializedHistogram } from './histogram.js';
import type { BenchMode, BenchTls } from './options.js';

/**
 * What the primary of `wsx bench` and its worker processes say to each other (JSON over the
 * IPC channel). The primary sends a plan; the worker opens its share of connections and says
 * `ready`; `start` begins traffic, `measure` begins counting (after --warmup), `stop` ends it;
 * the worker drains, closes and says `done`. Counts and latencies come back every tick as the
 * values since the last one, so the primary only adds them up.
 */

/** One worker's share of the run. */
export interface WorkerPlan {
  readonly mode: BenchMode;
  readonly url: string;
  /** Which worker this is (0-based): connection ids and names carry it. */
  readonly index: number;
  readonly connections: number;
  readonly concurrency: number;
  readonly depth: number;
  readonly size: number;
  readonly text: boolean;
  /** Echoes or handshakes this worker makes before it is finished; null: until `stop`. */
  readonly limit: number | null;
  readonly protocols: readonly string[];
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly deflate: boolean;
  readonly tls: BenchTls | undefined;
  readonly format: 'chat' | 'raw';
  readonly topic: string;
  readonly subscribeMessage: string | null;
}

export type PrimaryMessage =
  | { readonly type: 'plan'; readonly plan: WorkerPlan }
  | { readonly type: 'start' }
  | { readonly type: 'measure' }
  | { readonly type: 'stop' };

/** Counts since the previous report. */
export interface Tick {
  /** Echoes verified, handshakes completed, deliveries received: counted ones only. */
  readonly operations: number;
  readonly errors: Readonly<Record<string, number>>;
  /** The first few error messages, for the report. */
  readonly samples: readonly string[];
  readonly latency: SerializedHistogram;
  /** Connections open now. */
  readonly open: number;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly open: number; readonly tick: Tick }
  | { readonly type: 'tick'; readonly tick: Tick }
  /** Broadcast: the lowest publish number that every subscriber of this worker has received. */
  | { readonly type: 'watermark'; readonly seq: number }
  /** The worker did its `limit` of operations and has nothing in flight. */
  | { readonly type: 'finished' }
  | {
      readonly type: 'done';
      readonly tick: Tick;
      /** From `measure` to the last counted operation, seconds. */
      readonly activeSeconds: number;
      /** CPU time this worker used while measuring, seconds. */
      readonly cpuSeconds: number;
    }
  | { readonly type: 'fatal'; readonly message: string };
