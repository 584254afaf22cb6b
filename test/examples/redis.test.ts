// examples/redis-scale-out against a real redis-server started here: two nodes in the example
// exchange messages and a client resumes on the other node; without Redis it says so and exits 1.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { freePort, REDIS_SERVER, RedisServer } from '../redis/redis-server.js';
import { Peer } from '../shared/peer.js';
import { runExample } from './run.js';

const redisPeer = new Peer('redis-server', REDIS_SERVER !== undefined, 'apt-get install redis-server');

describe('examples/redis-scale-out', { timeout: 120_000 }, () => {
  let redis: RedisServer | null = null;
  before(async () => {
    if (redisPeer.available) redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.dispose();
  });

  redisPeer.it('crosses nodes, and resumes on the other node from the last position', async () => {
    const { code, lines, stderr } = await runExample('redis-scale-out', [], { REDIS_URL: redis!.url });
    assert.equal(code, 0, stderr);
    assert.deepEqual(lines, [
      'nodes A and B linked through Redis (stream mode)',
      'ada (on A) got: ada: hi from node A | bob: hi from node B',
      'bob (on B) got: ada: hi from node A | bob: hi from node B',
      'ada back on B: recovered true, missed 3: bob: one | bob: two | bob: three',
      'their offsets follow hers: +1, +2, +3',
    ]);
    assert.equal(stderr, '');
  });

  redisPeer.it('without a Redis, says where it looked and exits 1', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const { code, stderr } = await runExample('redis-scale-out', [], { REDIS_URL: url });
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`^no Redis at ${url}: start redis-server, or set REDIS_URL$`, 'm'));
  });
});
