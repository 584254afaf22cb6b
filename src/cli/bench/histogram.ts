/**
 * A latency histogram with log-linear buckets, in whole microseconds: values below 128 µs have
 * a bucket each; above that, every power of two is cut into 64 equal buckets, so a bucket is at
 * most 1/64 of its values wide and a percentile read from it (its middle) is within 0.8% of the
 * true value. Memory is fixed (1,728 counters, ~14 KiB) whatever is recorded; values over
 * 2^32 - 1 µs (71 minutes) count as that. Histograms of separate processes merge by adding
 * counters, and travel between them as their non-empty buckets (`toJSON` / `fromJSON`).
 */

/** Each power of two above the exact range is split into 2^SUB_BITS buckets. */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Values from 0 to 2 * SUB - 1 have a bucket each. */
const EXACT = 2 * SUB;
/** The largest value kept as it is. */
export const MAX_VALUE = 2 ** 32 - 1;
const BUCKETS = bucketOf(MAX_VALUE) + 1;

/** A histogram as it crosses a process boundary. */
export interface SerializedHistogram {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  /** Bucket index, count, bucket index, count...: the non-empty buckets only. */
  readonly buckets: readonly number[];
}

/** One bucket: the values from `low` to `high` (inclusive). */
export interface Bucket {
  readonly low: number;
  readonly high: number;
  readonly count: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private smallest = Number.POSITIVE_INFINITY;
  private largest = 0;
  private added = 0;

  /** Records one value in microseconds (rounded to whole µs; negatives count as 0). */
  record(microseconds: number): void {
    const value = microseconds <= 0 ? 0 : Math.min(MAX_VALUE, Math.round(microseconds));
    this.counts[bucketOf(value)]++;
    this.total++;
    this.added += value;
    if (value < this.smallest) this.smallest = value;
    if (value > this.largest) this.largest = value;
  }

  /** Adds every value of `other` to this one. */
  merge(other: Histogram): void {
    if (other.total === 0) return;
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.added += other.added;
    this.smallest = Math.min(this.smallest, other.smallest);
    this.largest = Math.max(this.largest, other.largest);
  }

  get count(): number {
    return this.total;
  }

  /** The smallest value recorded (exact); 0 when empty. */
  get min(): number {
    return this.total === 0 ? 0 : this.smallest;
  }

  /** The largest value recorded (exact). */
  get max(): number {
    return this.largest;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.added / this.total;
  }

  /**
   * The value below or at which `percent` % of the values lie (the nearest-rank definition),
   * as the middle of its bucket, kept within [min, max]; 0 when empty.
   */
  percentile(percent: number): number {
    if (this.total === 0) return 0;
    if (percent <= 0) return this.min;
    if (percent >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const low = bucketLow(i);
        const middle = low + (bucketWidth(i) - 1) / 2;
        return Math.min(this.max, Math.max(this.min, middle));
      }
    }
    return this.max;
  }

  /** The non-empty buckets, lowest first. */
  *buckets(): IterableIterator<Bucket> {
    for (let i = 0; i < BUCKETS; i++) {
      const count = this.counts[i];
      if (count > 0) {
        const low = bucketLow(i);
        yield { low, high: low + bucketWidth(i) - 1, count };
      }
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.added = 0;
    this.smallest = Number.POSITIVE_INFINITY;
    this.largest = 0;
  }

  toJSON(): SerializedHistogram {
    const buckets: number[] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push(i, this.counts[i]);
    return { count: this.total, min: this.min, max: this.largest, sum: this.added, buckets };
  }

  /** Rebuilds a histogram from `toJSON`'s output; throws on anything else. */
  static fromJSON(data: SerializedHistogram): Histogram {
    const histogram = new Histogram();
    const { buckets } = data;
    if (!Array.isArray(buckets) || buckets.length % 2 !== 0)
      throw new TypeError('not a serialized histogram');
    let total = 0;
    for (let i = 0; i < buckets.length; i += 2) {
      const index = buckets[i];
      const count = buckets[i + 1];
      if (!Number.isInteger(index) || index < 0 || index >= BUCKETS || !(count > 0)) {
        throw new TypeError(`bad histogram bucket ${index}: ${count}`);
      }
      histogram.counts[index] += count;
      total += count;
    }
    if (total !== data.count) throw new TypeError('histogram counts do not add up');
    histogram.total = total;
    histogram.added = data.sum;
    histogram.smallest = total === 0 ? Number.POSITIVE_INFINITY : data.min;
    histogram.largest = data.max;
    return histogram;
  }
}

/** The bucket of a whole value from 0 to MAX_VALUE. */
function bucketOf(value: number): number {
  if (value < EXACT) return value;
  // bit length - 1 - SUB_BITS: how far the value is shifted to keep SUB_BITS + 1 significant bits.
  const shift = 31 - Math.clz32(value) - SUB_BITS;
  return (shift << SUB_BITS) + (value >>> shift);
}

function bucketLow(index: number): number {
  if (index < EXACT) return index;
  const shift = (index >>> SUB_BITS) - 1;
  return (index - (shift << SUB_BITS)) * 2 ** shift;
}

function bucketWidth(index: number): number {
  return index < EXACT ? 1 : 2 ** ((index >>> SUB_BITS) - 1);
}
