import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.js';
import type { Tick } from './worker-messages.js';

/** Error messages one worker passes on: enough to say what went wrong, not a flood. */
const MAX_SAMPLES = 5;

/**
 * What one worker counts: operations (echoes, handshakes, deliveries) and their latency while
 * measuring, errors by kind at any time. `tick()` hands over what was counted since the last
 * tick and starts afresh, so memory stays fixed however long the run.
 */
export class Tally {
  /** Set by `measure`: operations before it (the warm-up) are checked but not counted. */
  measuring = false;
  private measureStart = 0;
  private lastOperation = 0;
  private operations = 0;
  private errors: Record<string, number> = {};
  private samples: string[] = [];
  private sampled = 0;
  private readonly latency = new Histogram();

  startMeasuring(): void {
    // A broadcast delivery marked as measured may start it before the primary's word arrives.
    if (this.measuring) return;
    this.measuring = true;
    this.measureStart = performance.now();
    this.lastOperation = this.measureStart;
  }

  /** One operation done, `microseconds` its latency; counted only while measuring. */
  operation(microseconds: number): void {
    if (!this.measuring) return;
    this.operations++;
    this.latency.record(microseconds);
    this.lastOperation = performance.now();
  }

  /** `count` errors of `kind` (mismatch, closed, connect...), with what to show for the first few. */
  error(kind: string, message: string, count = 1): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + count;
    if (this.sampled < MAX_SAMPLES) {
      this.sampled++;
      this.samples.push(message);
    }
  }

  /** Seconds from the start of measuring to the last operation counted. */
  get activeSeconds(): number {
    return this.measuring ? (this.lastOperation - this.measureStart) / 1000 : 0;
  }

  tick(open: number): Tick {
    const tick: Tick = {
      operations: this.operations,
      errors: this.errors,
      samples: this.samples,
      latency: this.latency.toJSON(),
      open,
    };
    this.operations = 0;
    this.errors = {};
    this.samples = [];
    this.latency.reset();
    return tick;
  }
}
