// The Redis adapter's lag figure: the highest of the last 10 to 20 s, never reset by a reader.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentMax } from '../../src/redis/recent-max.js';

describe('RecentMax', () => {
  it('keeps the highest value across reads within the span', () => {
    const max = new RecentMax(10_000);
    max.record(40, 1_000);
    max.record(25, 2_000);
    assert.equal(max.read(3_000), 40);
    assert.equal(max.read(4_000), 40, 'a read does not reset it');
  });

  it('forgets a value once it is more than two spans old', () => {
    const max = new RecentMax(10_000);
    max.record(40, 1_000);
    assert.equal(max.read(15_000), 40, 'still in the previous bucket');
    max.record(5, 16_000);
    assert.equal(max.read(26_000), 5, 'the 40 has rotated out');
    assert.equal(max.read(60_000), 0, 'nothing recorded for over two spans');
  });
});
