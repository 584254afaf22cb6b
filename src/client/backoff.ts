/** Exponential backoff with jitter: the wait before each reconnection attempt. */

/** The retry schedule of {@link Backoff} and {@link ReconnectOptions}. */
export interface BackoffOptions {
  /** Wait before the first retry, in ms (default 250). */
  readonly minDelay?: number;
  /** Longest wait between retries, in ms (default 30,000). */
  readonly maxDelay?: number;
  /** Growth of the wait per failed attempt (default 2). */
  readonly factor?: number;
  /** Randomization, 0-1 (default 0.5): each wait is cut by up to this fraction. */
  readonly jitter?: number;
}

/**
 * Exponential backoff with jitter: `min(maxDelay, minDelay × factor^(attempt−1)) × (1 − jitter × random)`.
 *
 * @example
 * ```ts
 * import { Backoff } from 'wsx';
 * const backoff = new Backoff({ minDelay: 100, maxDelay: 5_000 });
 * const wait = backoff.delay(3); // between 200 and 400 ms with the default jitter of 0.5
 * ```
 */
export class Backoff {
  /** Wait before the first retry, in ms. */
  readonly minDelay: number;
  /** Longest wait, in ms. */
  readonly maxDelay: number;
  /** Growth of the wait per attempt. */
  readonly factor: number;
  /** Fraction (0-1) by which each wait may be cut at random; clamped into that range. */
  readonly jitter: number;

  /** @throws RangeError unless 0 <= minDelay <= maxDelay and factor >= 1. */
  constructor(options: BackoffOptions = {}) {
    this.minDelay = options.minDelay ?? 250;
    this.maxDelay = options.maxDelay ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    if (!(this.minDelay >= 0) || !(this.maxDelay >= this.minDelay) || !(this.factor >= 1)) {
      throw new RangeError('backoff needs 0 <= minDelay <= maxDelay and factor >= 1');
    }
  }

  /** The wait before attempt number `attempt` (1 for the first retry). */
  delay(attempt: number, random: () => number = Math.random): number {
    const base = Math.min(this.maxDelay, this.minDelay * this.factor ** Math.max(0, attempt - 1));
    return Math.round(base * (1 - this.jitter * random()));
  }
}
