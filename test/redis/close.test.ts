// Shutting a node down with subscribers: their unsubscribes, cut short when the adapter tears
// its link down, are part of the shutdown and must not be reported as errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '../shared/wait.js';
import { linked, Subscriber, startNode } from './nodes.js';
import { RedisServer, redisSkip } from './redis-server.js';

describe('closing a server with a Redis adapter', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  before(async () => {
    if (redisSkip === false) redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.dispose();
  });

  for (const mode of ['pubsub', 'stream'] as const) {
    it(`${mode}: reports nothing while its subscribers' topics are unsubscribed`, {
      skip: redisSkip,
    }, async () => {
      // A few rounds: whether an UNSUBSCRIBE is still pending when the link goes is a race.
      for (let round = 0; round < 5; round++) {
        const node = await startNode(redis.url, { mode, prefix: `wsxclose${mode}${round}:` });
        await linked(node);
        const subscribers = [];
        for (const topic of ['a', 'b', 'c']) subscribers.push(await Subscriber.open(node.port, topic));
        await until(10_000, 'the subscriptions', () => node.server.subscribers('c') === 1);
        const report = await node.server.close({ timeout: 2_000 });
        assert.equal(report.closedCleanly, 3);
        assert.deepEqual(
          node.errors.map((error) => error.message),
          [],
        );
      }
    });
  }
});
