// Two `wsx serve --redis` processes on one Redis: Chromium opens the chat page on each, and what
// one page types appears on the other, through Redis, in both delivery modes.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisServer, redisSkip } from '../redis/redis-server.js';
import { artifacts, browser, joinRoom, launch, serve, stop, talkBothWays } from './chat-page.js';

/** Both peers are needed; under CI both are installed, so nothing is skipped there. */
const skip = redisSkip !== false ? redisSkip : browser.skip;

let redis: RedisServer | undefined;

describe('the chat page in Chromium, across two nodes joined by Redis', { timeout: 90_000 }, () => {
  before(async () => {
    if (skip === false) redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.dispose();
  });

  for (const mode of ['pubsub', 'stream']) {
    it(`carries messages from a page on one node to a page on the other (${mode})`, { skip }, async () => {
      const nodes = [
        await serve('--redis', redis!.url, '--redis-mode', mode),
        await serve('--redis', redis!.url, '--redis-mode', mode),
      ];
      const { context, close } = await launch();
      try {
        const [a, b] = nodes.map((node) => `http://127.0.0.1:${node.port}/`);
        const alice = await context.newPage();
        const bob = await context.newPage();
        const errors: string[] = [];
        for (const page of [alice, bob]) page.on('pageerror', (error) => errors.push(error.message));
        await joinRoom(alice, a!, 'alice');
        await joinRoom(bob, b!, 'bob');
        // Bob's join goes through Redis too: once alice sees it, the subscriptions are in place.
        await alice.locator('#log', { hasText: 'bob joined.' }).waitFor();

        // An HTTP publish on node B reaches the pages on both nodes.
        await talkBothWays(
          { page: alice, name: 'alice' },
          { page: bob },
          { there: `hello from node A (${mode})`, back: 'and back from node B' },
          b!,
        );

        mkdirSync(artifacts, { recursive: true });
        await alice.screenshot({ path: join(artifacts, `redis-${mode}-alice-node-a.png`) });
        await bob.screenshot({ path: join(artifacts, `redis-${mode}-bob-node-b.png`) });
        assert.deepEqual(errors, []);
      } finally {
        await close();
        for (const { child } of nodes) await stop(child);
      }
    });
  }
});
