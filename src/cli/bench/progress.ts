import { count, ms, RATE_UNIT } from './format.js';
import type { BenchOptions } from './options.js';
import type { ProgressSnapshot } from './primary.js';

/**
 * The live progress of a run on standard error: one line rewritten in place on a terminal,
 * a plain line every second otherwise (a log keeps each one).
 */
export class ProgressLine {
  private shown = false;

  constructor(
    private readonly options: BenchOptions,
    private readonly stream: NodeJS.WriteStream,
  ) {}

  get interactive(): boolean {
    return this.stream.isTTY === true;
  }

  /** How often a snapshot should come. */
  get intervalMs(): number {
    return this.interactive ? 250 : 1000;
  }

  update(snapshot: ProgressSnapshot): void {
    const line = this.describe(snapshot);
    if (this.interactive) {
      const width = (this.stream.columns ?? 100) - 1;
      this.stream.write(`\r${line.slice(0, width)}\u001b[K`);
      this.shown = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Leaves the terminal line empty for what follows. */
  finish(): void {
    if (this.shown) this.stream.write('\r\u001b[K');
    this.shown = false;
  }

  private describe(snapshot: ProgressSnapshot): string {
    const { mode, duration } = this.options;
    const errors = `${count(snapshot.errors)} error${snapshot.errors === 1 ? '' : 's'}`;
    const open = `${count(snapshot.open)} open`;
    switch (snapshot.phase) {
      case 'connecting':
        return `wsx bench ${mode}: connecting, ${open}, ${errors}`;
      case 'warmup':
        return `wsx bench ${mode}: warming up, ${open}, ${errors}`;
      case 'draining':
        return `wsx bench ${mode}: finishing, ${open}, ${errors}`;
    }
    const elapsed = Math.min(snapshot.elapsed, duration);
    const time = `${elapsed.toFixed(1)} s of ${duration} s (${Math.max(0, duration - elapsed).toFixed(1)} s left)`;
    if (mode === 'idle') return `wsx bench idle: ${time}, ${open}, ${errors}`;
    const rate = snapshot.recentSeconds > 0 ? snapshot.recentOperations / snapshot.recentSeconds : 0;
    const latency = snapshot.recentLatency;
    const percentiles =
      latency.count === 0
        ? 'no latency yet'
        : `p50 ${ms(latency.percentile(50))} ms, p99 ${ms(latency.percentile(99))} ms`;
    return `wsx bench ${mode}: ${time}, ${count(rate)} ${RATE_UNIT[mode]}, ${percentiles}, ${open}, ${errors}`;
  }
}
