import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient } from 'redis';
import { PublishRefusedError } from '../../src/redis/index.js';
import { sleep, until } from '../shared/wait.js';
import { linked, Subscriber, startNode, stopAll } from './nodes.js';
import { freePort, RedisServer, redisSkip } from './redis-server.js';

/** Every subscriber got each accepted message exactly once, nothing unknown, in offset order with no gap. */
function assertExactlyOnce(subscriber: Subscriber, accepted: Set<string>, sent: Set<string>): void {
  const texts = subscriber.texts.filter((t) => t.startsWith('m'));
  assert.equal(new Set(texts).size, texts.length, 'no message twice');
  for (const text of texts) assert.ok(sent.has(text), `${text} was published`);
  for (const text of accepted) assert.ok(texts.includes(text), `accepted ${text} was delivered`);
  const offsets = subscriber.received.filter((m) => m.data.startsWith('m')).map((m) => m.offset!);
  for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i]! > offsets[i - 1]!, 'offsets in order');
}

/** A subscription starts some time after its subscribe: what was accepted from its first message on. */
function acceptedSinceFirst(subscriber: Subscriber, accepted: Set<string>): Set<string> {
  const first = Number(subscriber.texts.find((t) => t.startsWith('m'))!.slice(1));
  return new Set([...accepted].filter((t) => Number(t.slice(1)) >= first));
}

/** Publishes `m0`, `m1`, ... through `publish` until stopped; records what Redis accepted. */
function publisher(publish: (text: string) => Promise<unknown>) {
  const sent = new Set<string>();
  const accepted = new Set<string>();
  const refused: Error[] = [];
  let stopped = false;
  let n = 0;
  const done = (async () => {
    while (!stopped) {
      const text = `m${n++}`;
      sent.add(text);
      publish(text).then(
        () => accepted.add(text),
        (error: Error) => refused.push(error),
      );
      await sleep(2);
    }
  })();
  return {
    sent,
    accepted,
    refused,
    count: () => n,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('Redis topic adapter under failure (real redis-server)', { timeout: 180_000 }, () => {
  it('starts with Redis down: reports it, queues publishes, delivers them when Redis comes', {
    skip: redisSkip,
  }, async () => {
    const port = await freePort();
    const node = await startNode(`redis://127.0.0.1:${port}`, { mode: 'stream', prefix: 'down:' });
    let redis: RedisServer | null = null;
    try {
      await until(20_000, 'a report that Redis is down', () =>
        node.errors.some((e) => /Redis link down/.test(e.message)),
      );
      const early = node.server.publishConfirmed('t', 'queued while down');
      const stats = node.server.stats().adapter!;
      assert.equal(stats.linkUp, false);
      assert.equal(stats.queued, 1);
      redis = await RedisServer.start({}, port);
      const result = await early;
      assert.equal(result.position?.offset, 1);
      await linked(node);
      assert.equal(node.server.stats().adapter!.queued, 0);
    } finally {
      await stopAll([node], []);
      await redis?.dispose();
    }
  });

  it('refuses publishes past the queue bound while the link is down: counted, never silent', {
    skip: redisSkip,
  }, async () => {
    const port = await freePort();
    const node = await startNode(`redis://127.0.0.1:${port}`, {
      mode: 'pubsub',
      prefix: 'full:',
      maxQueued: 3,
    });
    try {
      const queued = [1, 2, 3].map((i) => node.server.publishConfirmed('t', `q${i}`));
      for (const p of queued) p.catch(() => {});
      await assert.rejects(node.server.publishConfirmed('t', 'one too many'), (error: Error) => {
        assert.ok(error instanceof PublishRefusedError);
        assert.match(error.message, /queue is full/);
        return true;
      });
      // A plain publish past the bound is reported to the server's error report and counted.
      node.server.publish('t', 'another');
      await until(
        10_000,
        'the refused publish reported',
        () => node.server.stats().topics.publishFailures === 2,
      );
      const stats = node.server.stats().adapter!;
      assert.equal(stats.refusedTotal, 2);
      assert.equal(stats.queued, 3);
    } finally {
      await stopAll([node], []);
    }
  });

  it('stream: subscribers lose nothing when their subscription connection is cut (gap read back)', {
    skip: redisSkip,
  }, async () => {
    const redis = await RedisServer.start();
    const options = { mode: 'stream' as const, prefix: 'cut:' };
    const a = await startNode(redis.url, options);
    const b = await startNode(redis.url, options);
    const admin = createClient({ url: redis.url });
    admin.on('error', () => {});
    await admin.connect();
    const subscribers: Subscriber[] = [];
    try {
      await linked(a, b);
      const onB = await Subscriber.open(b.port, 'live');
      subscribers.push(onB);
      await until(20_000, 'the subscription', () => b.server.subscribers('live') === 1);
      const flow = publisher((text) => a.server.publishConfirmed('live', text));
      await until(20_000, 'some traffic', () => onB.received.length > 50);
      // Cut every pub/sub connection: node-redis reconnects and resubscribes, the nodes read the gap from the stream.
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      await until(
        20_000,
        'traffic after the cut',
        () => (b.server.stats().adapter!.reconnectsTotal as number) >= 1,
      );
      const mark = flow.count();
      await until(30_000, 'more traffic', () => onB.texts.includes(`m${mark + 50}`));
      await flow.stop();
      const expected = acceptedSinceFirst(onB, flow.accepted);
      await until(30_000, 'every accepted message', () => [...expected].every((t) => onB.texts.includes(t)));
      assertExactlyOnce(onB, expected, flow.sent);
      assert.equal(flow.refused.length, 0);
    } finally {
      await admin.close();
      await stopAll([a, b], subscribers);
      await redis.dispose();
    }
  });

  it('stream, persistent Redis restarted under load: no accepted message lost, none twice', {
    skip: redisSkip,
  }, async () => {
    const redis = await RedisServer.start({ persistent: true });
    const options = { mode: 'stream' as const, prefix: 'restart:' };
    const a = await startNode(redis.url, options);
    const b = await startNode(redis.url, options);
    const subscribers: Subscriber[] = [];
    try {
      await linked(a, b);
      const onA = await Subscriber.open(a.port, 'live');
      const onB = await Subscriber.open(b.port, 'live');
      subscribers.push(onA, onB);
      const flow = publisher((text) => a.server.publishConfirmed('live', text));
      await until(20_000, 'traffic', () => onA.received.length > 50 && onB.received.length > 50);
      await redis.restart();
      const mark = flow.count();
      await until(30_000, 'traffic after the restart', () => onB.texts.includes(`m${mark + 50}`));
      await flow.stop();
      for (const s of [onA, onB]) {
        const expected = acceptedSinceFirst(s, flow.accepted);
        await until(30_000, 'every accepted message', () => [...expected].every((t) => s.texts.includes(t)));
        assertExactlyOnce(s, expected, flow.sent);
        assert.equal(s.recoveries.length, 0, 'the history survived: nothing to reset');
      }
      assert.ok((a.server.stats().adapter!.reconnectsTotal as number) >= 1);
    } finally {
      await stopAll([a, b], subscribers);
      await redis.dispose();
    }
  });

  it('stream, Redis restarted without persistence: the epoch changes and subscribers are told', {
    skip: redisSkip,
  }, async () => {
    const redis = await RedisServer.start();
    const options = { mode: 'stream' as const, prefix: 'lost:' };
    const a = await startNode(redis.url, options);
    const subscribers: Subscriber[] = [];
    try {
      await linked(a);
      const s = await Subscriber.open(a.port, 'live');
      subscribers.push(s);
      await until(20_000, 'the subscription', () => a.server.subscribers('live') === 1);
      for (let i = 0; i < 5; i++) await a.server.publishConfirmed('live', `m${i}`);
      await until(20_000, 'the first five', () => s.received.length === 5);
      const before = s.last;
      await redis.restart();
      await linked(a);
      const after = await a.server.publishConfirmed('live', 'm5');
      assert.notEqual(after.position?.epoch, before.epoch);
      assert.equal(after.position?.offset, 1);
      await until(
        20_000,
        'the reset and the new message',
        () => s.recoveries.length === 1 && s.texts.includes('m5'),
      );
      assert.equal(s.recoveries[0]!.recovered, false);
      assert.equal(s.recoveries[0]!.reason, 'epoch changed');
      // A client resuming from the old history is told it cannot be recovered.
      const late = await Subscriber.open(a.port, 'live', before);
      subscribers.push(late);
      await until(20_000, 'its answer', () => late.recoveries.length === 1);
      assert.equal(late.recoveries[0]!.recovered, false);
      assert.equal(late.recoveries[0]!.reason, 'epoch changed');
    } finally {
      await stopAll([a], subscribers);
      await redis.dispose();
    }
  });
});
