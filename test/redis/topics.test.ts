import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { PublishRefusedError } from '../../src/redis/index.js';
import { until } from '../shared/wait.js';
import { linked, Subscriber, startNode, stopAll } from './nodes.js';
import { RedisServer, redisSkip } from './redis-server.js';

/** Publishes probes from `publisher` until every subscriber has one: the subscriptions are in place. Then forgets them. */
async function settle(publisher: Subscriber, subscribers: Subscriber[]): Promise<void> {
  let n = 0;
  await until(20_000, 'a probe at every subscriber', () => {
    if (subscribers.every((s) => s.texts.some((t) => t.startsWith('probe')))) return true;
    publisher.send(`probe ${n++}`);
    return false;
  });
  // Probes still on their way arrive before anything sent after this one.
  publisher.send('probe end');
  await until(20_000, 'the last probe', () => subscribers.every((s) => s.texts.includes('probe end')));
  for (const s of subscribers) s.received.length = 0;
}

let redis: RedisServer;
let prefix = 0;
const nextPrefix = () => `wsxtest${++prefix}:`;

describe('Redis topic adapter (real redis-server)', { timeout: 120_000 }, () => {
  before(async () => {
    if (redisSkip === false) redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.dispose();
  });

  for (const mode of ['pubsub', 'stream'] as const) {
    it(`${mode}: carries every message between two nodes, once each, in order`, {
      skip: redisSkip,
    }, async () => {
      const options = { mode, prefix: nextPrefix() };
      const a = await startNode(redis.url, options);
      const b = await startNode(redis.url, options);
      const subscribers: Subscriber[] = [];
      try {
        await linked(a, b);
        const publisher = await Subscriber.open(a.port, 'room');
        const onA = await Subscriber.open(a.port, 'room');
        const onB = [await Subscriber.open(b.port, 'room'), await Subscriber.open(b.port, 'room')];
        subscribers.push(publisher, onA, ...onB);
        await settle(publisher, [onA, ...onB]);
        const sent = Array.from({ length: 200 }, (_, i) => `message ${i}`);
        for (const text of sent) publisher.send(text);
        await until(30_000, 'every message on both nodes', () =>
          [onA, ...onB].every((s) => s.received.length >= sent.length),
        );
        for (const s of [onA, ...onB]) assert.deepEqual(s.texts, sent);
        if (mode === 'stream') {
          // Offsets are consecutive, and every node sees the same offsets for the same messages.
          const offsets = onB[0]!.received.map((m) => m.offset!);
          for (let i = 1; i < offsets.length; i++) assert.equal(offsets[i], offsets[i - 1]! + 1);
          assert.deepEqual(
            onA.received.map((m) => m.offset),
            offsets,
          );
        }
        // exceptSelf: the publisher's own copy is skipped, on its node and nowhere else.
        publisher.send('!quiet');
        publisher.send('loud');
        await until(20_000, 'loud everywhere', () =>
          [publisher, onA, ...onB].every((s) => s.texts.includes('loud')),
        );
        assert.equal(publisher.texts.includes('quiet'), false);
        for (const s of [onA, ...onB]) assert.deepEqual(s.texts.slice(-2), ['quiet', 'loud']);
        const stats = b.server.stats().adapter!;
        assert.equal(stats.kind, 'redis');
        assert.equal(stats.mode, mode);
        assert.equal(stats.invalidTotal, 0);
      } finally {
        await stopAll([a, b], subscribers);
      }
    });
  }

  it('stream: a client that reconnects to another node gets exactly what it missed', {
    skip: redisSkip,
  }, async () => {
    const options = { mode: 'stream' as const, prefix: nextPrefix() };
    const a = await startNode(redis.url, options);
    const b = await startNode(redis.url, options);
    const subscribers: Subscriber[] = [];
    try {
      await linked(a, b);
      const publisher = await Subscriber.open(a.port, 'feed');
      const reader = await Subscriber.open(b.port, 'feed');
      subscribers.push(publisher, reader);
      await settle(publisher, [reader]);
      for (let i = 0; i < 10; i++) publisher.send(`before ${i}`);
      await until(20_000, 'the first ten', () => reader.received.length === 10);
      const last = reader.last;
      await reader.close();
      for (let i = 0; i < 25; i++) publisher.send(`missed ${i}`);
      await until(20_000, 'the publisher to see its 25', () => publisher.texts.includes('missed 24'));
      // Back on the other node, while messages keep coming.
      const back = await Subscriber.open(a.port, 'feed', last);
      subscribers.push(back);
      for (let i = 0; i < 10; i++) publisher.send(`after ${i}`);
      await until(20_000, 'the recovery and the live messages', () => back.texts.includes('after 9'));
      assert.deepEqual(back.texts, [
        ...Array.from({ length: 25 }, (_, i) => `missed ${i}`),
        ...Array.from({ length: 10 }, (_, i) => `after ${i}`),
      ]);
      assert.equal(back.recoveries.length, 1);
      assert.equal(back.recoveries[0]!.recovered, true);
      assert.equal(back.recoveries[0]!.missed, 25);
      const offsets = back.received.map((m) => m.offset!);
      assert.deepEqual(
        offsets,
        Array.from({ length: 35 }, (_, i) => last.offset + 1 + i),
      );
      assert.equal(a.server.stats().topics.recovery.hits, 1);
    } finally {
      await stopAll([a, b], subscribers);
    }
  });

  it('stream: a gap longer than the history is "not recovered", never a silent hole', {
    skip: redisSkip,
  }, async () => {
    const options = { mode: 'stream' as const, prefix: nextPrefix(), historyLength: 5 };
    const a = await startNode(redis.url, options);
    const subscribers: Subscriber[] = [];
    try {
      await linked(a);
      const publisher = await Subscriber.open(a.port, 'short');
      subscribers.push(publisher);
      await settle(publisher, [publisher]);
      publisher.send('seen');
      await until(20_000, 'seen', () => publisher.texts.includes('seen'));
      const last = publisher.last;
      // MAXLEN ~ trims whole nodes of the stream: publish enough to push `seen` well out.
      for (let i = 0; i < 400; i++) publisher.send(`later ${i}`);
      await until(20_000, 'the later messages', () => publisher.texts.includes('later 399'));
      const back = await Subscriber.open(a.port, 'short', last);
      subscribers.push(back);
      await until(20_000, 'the recovery answer', () => back.recoveries.length === 1);
      const answer = back.recoveries[0]!;
      assert.equal(answer.recovered, false);
      assert.equal(answer.reason, 'history trimmed');
      assert.equal(answer.position?.offset, publisher.last.offset);
      // A wrong epoch is not recovered either.
      const stranger = await Subscriber.open(a.port, 'short', { offset: 3, epoch: 'otherepoch' });
      subscribers.push(stranger);
      await until(20_000, 'the second answer', () => stranger.recoveries.length === 1);
      assert.equal(stranger.recoveries[0]!.reason, 'epoch changed');
      assert.equal(a.server.stats().topics.recovery.misses, 2);
    } finally {
      await stopAll([a], subscribers);
    }
  });

  it('stream: each new history of a topic gets an epoch it never had, from any node', {
    skip: redisSkip,
  }, async () => {
    const options = { mode: 'stream' as const, prefix: nextPrefix() };
    const [a, b] = [await startNode(redis.url, options), await startNode(redis.url, options)];
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await linked(a, b);
      const epochs: string[] = [];
      // Each round the topic's stream is gone (as after a restart without persistence): the
      // next publish starts a new history, with an epoch offered by whichever node published.
      for (const node of [a, a, b, a, b, b]) {
        const first = await node.server.publishConfirmed('lost', `round ${epochs.length}`);
        const second = await node.server.publishConfirmed('lost', 'again');
        assert.equal(first.position?.offset, 1);
        assert.deepEqual(second.position, { offset: 2, epoch: first.position?.epoch });
        epochs.push(first.position!.epoch);
        assert.equal(await admin.del(`${options.prefix}lost`), 1);
      }
      assert.equal(new Set(epochs).size, epochs.length, `epochs repeat: ${epochs.join(' ')}`);
      for (const epoch of epochs) assert.match(epoch, /^[0-9a-z]{1,24}$/);
    } finally {
      await admin.quit();
      await stopAll([a, b], []);
    }
  });

  it('pubsub: "since" is answered "no history"', { skip: redisSkip }, async () => {
    const a = await startNode(redis.url, { mode: 'pubsub', prefix: nextPrefix() });
    const subscribers: Subscriber[] = [];
    try {
      await linked(a);
      const s = await Subscriber.open(a.port, 'x', { offset: 1, epoch: 'e' });
      subscribers.push(s);
      await until(10_000, 'the answer', () => s.recoveries.length === 1);
      assert.equal(s.recoveries[0]!.reason, 'no history');
    } finally {
      await stopAll([a], subscribers);
    }
  });

  it('refuses, counts and reports what another application publishes on its channels', {
    skip: redisSkip,
  }, async () => {
    for (const mode of ['pubsub', 'stream'] as const) {
      const options = { mode, prefix: nextPrefix(), maxPayload: 1024 };
      const a = await startNode(redis.url, options);
      const raw = createClient({ url: redis.url });
      raw.on('error', () => {});
      await raw.connect();
      const subscribers: Subscriber[] = [];
      try {
        await linked(a);
        const s = await Subscriber.open(a.port, 'victim');
        subscribers.push(s);
        await settle(s, [s]);
        const channel = `${options.prefix}victim`;
        const hostile = [
          Buffer.from('hello'),
          Buffer.from('wsx1 p 0 node 1 2 - 0'), // no header end
          Buffer.concat([
            Buffer.from(`wsx1 ${mode === 'stream' ? 's' : 'p'} 0 zz 1 1 - 0\n`),
            Buffer.from([0xff, 0xfe]),
          ]),
          Buffer.concat([Buffer.from('wsx1 p 1 zz 1 1 - 0\n'), Buffer.alloc(4096)]), // over maxPayload
          Buffer.from(`wsx1 ${mode === 'stream' ? 'p' : 's'} 0 zz 1 1 e 1\nwrong mode`),
          Buffer.alloc(1 << 20, 0x41),
        ];
        for (const message of hostile) await raw.publish(channel, message);
        await until(
          20_000,
          'every hostile message counted',
          () => a.server.stats().adapter!.invalidTotal === hostile.length,
        );
        assert.equal(a.errors.filter((e) => /refused a message/.test(e.message)).length, hostile.length);
        // The node is unharmed: its own messages still go through.
        s.send('still here');
        await until(20_000, 'a message after them', () => s.texts.includes('still here'));
        assert.deepEqual(s.texts, ['still here']);
        // And a publish over the limit is refused at the source.
        await assert.rejects(a.server.publishConfirmed('victim', 'x'.repeat(2000)), PublishRefusedError);
      } finally {
        await raw.close();
        await stopAll([a], subscribers);
      }
    }
  });
});
