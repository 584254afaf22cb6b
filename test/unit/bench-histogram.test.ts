// The latency histogram of `wsx bench`: percentile math (nearest rank, bucket error), merging
// and serialising (worker processes send theirs to the primary), bounded memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, MAX_VALUE } from '../../src/cli/bench/histogram.js';

function of(values: Iterable<number>): Histogram {
  const histogram = new Histogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Asserts `actual` is within `fraction` of `expected`. */
function near(actual: number, expected: number, fraction: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * fraction,
    `${what}: ${actual} is not within ${fraction * 100}% of ${expected}`,
  );
}

describe('bench histogram', () => {
  it('is exact below 128 µs, by the nearest-rank definition', () => {
    const histogram = of([5, 5, 7, 9, 100]);
    assert.equal(histogram.count, 5);
    assert.equal(histogram.percentile(0), 5);
    assert.equal(histogram.percentile(20), 5); // rank 1
    assert.equal(histogram.percentile(40), 5); // rank 2
    assert.equal(histogram.percentile(41), 7); // rank 3
    assert.equal(histogram.percentile(80), 9);
    assert.equal(histogram.percentile(99.9), 100);
    assert.equal(histogram.percentile(100), 100);
    assert.equal(histogram.min, 5);
    assert.equal(histogram.max, 100);
    assert.equal(histogram.mean, 126 / 5);
  });

  it('reads percentiles of a wide range within 0.8% of the true value', () => {
    const histogram = of(range(1, 100_000));
    for (const percent of [50, 90, 99, 99.9, 99.99]) {
      near(histogram.percentile(percent), (percent / 100) * 100_000, 0.008, `p${percent}`);
    }
    assert.equal(histogram.percentile(100), 100_000);
    assert.equal(histogram.max, 100_000);
    assert.equal(histogram.min, 1);
  });

  it('keeps percentiles in order and within min and max', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Log-normal-ish: most small, a long tail.
    const histogram = of(Array.from({ length: 20_000 }, () => Math.exp(random() * 14)));
    const percentiles = [0, 50, 90, 99, 99.9, 100].map((p) => histogram.percentile(p));
    for (let i = 1; i < percentiles.length; i++)
      assert.ok(percentiles[i] >= percentiles[i - 1], `${percentiles}`);
    assert.equal(percentiles[0], histogram.min);
    assert.equal(percentiles.at(-1), histogram.max);
  });

  it('takes the bucket a value falls in, whatever its magnitude', () => {
    for (const value of [127, 128, 129, 1000, 65_535, 65_536, 1_234_567, 2 ** 31, MAX_VALUE]) {
      const histogram = of([value]);
      const [bucket] = [...histogram.buckets()];
      assert.ok(bucket.low <= value && value <= bucket.high, `${value} in ${bucket.low}..${bucket.high}`);
      assert.ok(bucket.high - bucket.low + 1 <= Math.max(1, bucket.low / 64), `${value}: bucket too wide`);
      // A single value: every percentile is that value (kept within min and max).
      assert.equal(histogram.percentile(50), value);
    }
  });

  it('rounds to whole microseconds, counts negatives as 0 and clamps the huge', () => {
    const histogram = of([-3, 0.4, 1.6, 2 ** 40]);
    assert.equal(histogram.min, 0);
    assert.equal(histogram.percentile(50), 0);
    assert.equal(histogram.percentile(75), 2);
    assert.equal(histogram.max, MAX_VALUE);
  });

  it('merges: two halves give what recording everything in one gives', () => {
    const whole = of(range(1, 5000));
    const low = of(range(1, 2500));
    const high = of(range(2501, 5000));
    low.merge(high);
    assert.deepEqual(low.toJSON(), whole.toJSON());
    assert.equal(low.percentile(99), whole.percentile(99));
    low.merge(new Histogram());
    assert.deepEqual(low.toJSON(), whole.toJSON());
    const empty = new Histogram();
    empty.merge(whole);
    assert.deepEqual(empty.toJSON(), whole.toJSON());
  });

  it('serialises as its non-empty buckets and comes back the same, through JSON text', () => {
    const histogram = of([3, 3, 500, 70_000, 9_000_000]);
    const json = histogram.toJSON();
    assert.equal(json.buckets.length, 2 * 4);
    const back = Histogram.fromJSON(JSON.parse(JSON.stringify(json)));
    assert.deepEqual(back.toJSON(), json);
    assert.equal(back.percentile(50), histogram.percentile(50));
    assert.equal(back.min, 3);
    assert.equal(Histogram.fromJSON(new Histogram().toJSON()).count, 0);
    assert.throws(() => Histogram.fromJSON({ ...json, buckets: [99_999, 1] }), /bad histogram bucket/);
    assert.throws(() => Histogram.fromJSON({ ...json, count: 6 }), /do not add up/);
  });

  it('holds a million values in the same few buckets (memory does not grow with the count)', () => {
    const histogram = new Histogram();
    for (let i = 0; i < 1_000_000; i++) histogram.record(200 + (i % 300));
    assert.equal(histogram.count, 1_000_000);
    // 200..499 µs: one bucket per value up to 127 is not used; 64 per power of two above.
    assert.ok(histogram.toJSON().buckets.length / 2 <= 200);
    histogram.reset();
    assert.equal(histogram.count, 0);
    assert.equal(histogram.percentile(50), 0);
    assert.deepEqual([...histogram.buckets()], []);
  });
});
