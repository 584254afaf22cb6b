// wsx/redis on a real three-master Redis Cluster: two wsx servers, each with its own adapter,
// carry topics between them over sharded pub/sub while slots move and masters restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type WebSocketServer } from '../../src/index.js';
import { createRedisAdapter, type RedisTopicAdapter, type RedisTopicMode } from '../../src/redis/index.js';
import type { TopicRecovery } from '../../src/server/topic-adapter.js';
import { RawClient } from '../server/helpers.js';
import { sleep, until } from '../shared/wait.js';
import { cli, skipWithoutRedis as skip, TestCluster } from './cluster.js';

/** Hang guards only: every wait ends as soon as its condition holds. */
const WAIT = 60_000;

/** A wsx server on its own adapter; route `/t/:topic` subscribes, and keeps recovery reports. */
interface Node {
  server: WebSocketServer;
  port: number;
  adapter: RedisTopicAdapter;
  recoveries: TopicRecovery[];
}

async function startNode(cluster: TestCluster, mode: RedisTopicMode, prefix: string): Promise<Node> {
  const adapter = await createRedisAdapter({ cluster: { rootNodes: cluster.rootNodes }, mode, prefix });
  const server = createServer({ topicAdapter: adapter });
  const recoveries: TopicRecovery[] = [];
  server.route<string>('/t/:topic', {
    upgrade: ({ params }) => ({ data: params.topic! }),
    open: (socket) => void socket.subscribe(socket.data),
    recovery: (_socket, result) => void recoveries.push(result),
  });
  const { port } = await server.listen({ port: 0 });
  await until(WAIT, 'the adapter link', () => adapter.stats().linkUp === true);
  return { server, port, adapter, recoveries };
}

/** A raw client subscribed to `topic`, keeping the texts of the messages it receives. */
async function subscriber(node: Node, topic: string): Promise<{ client: RawClient; texts: string[] }> {
  const client = await RawClient.open(node.port, `/t/${topic}`);
  const texts: string[] = [];
  client.keepFrames = false;
  client.onFrame = (frame) => texts.push(frame.payload.toString('utf8'));
  return { client, texts };
}

/**
 * Publishes probes from `from` until every client has one: then the subscriptions on both
 * servers are live (SSUBSCRIBE done and, in stream mode, the topic's start position read).
 */
async function warmUp(from: Node, topic: string, clients: { texts: string[] }[]): Promise<void> {
  const has = () => clients.every((c) => c.texts.includes('probe'));
  const deadline = Date.now() + WAIT;
  while (!has()) {
    if (Date.now() > deadline) throw new Error(`timed out warming up ${topic}`);
    from.server.publish(topic, 'probe');
    await sleep(50);
  }
}

/** The messages (not probes) a client received. */
const real = (texts: string[]) => texts.filter((t) => t !== 'probe');

/** One topic name per master: a name hashes to a slot, and each master owns a range of them. */
async function topicPerMaster(cluster: TestCluster, prefix: string): Promise<Map<number, string>> {
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < cluster.ports.length; i++) {
    const topic = `room-${i}`;
    const owner = await cluster.ownerOf(await cluster.slotOf(prefix + topic));
    if (!byMaster.has(owner)) byMaster.set(owner, topic);
  }
  return byMaster;
}

async function closeAll(nodes: Node[], clients: { client: RawClient }[]): Promise<void> {
  for (const { client } of clients) client.socket.destroy();
  for (const node of nodes) await node.server.close({ timeout: 1_000 });
}

describe('wsx/redis on a Redis Cluster', { timeout: 240_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    if (skip === false) cluster = await TestCluster.start();
  });
  after(async () => {
    await cluster?.stop();
  });

  for (const mode of ['pubsub', 'stream'] as const) {
    it(`${mode}: topics on every master go from server A to B and back, each once and in order`, {
      skip,
    }, async () => {
      const prefix = `spread-${mode}:`;
      const topics = [...(await topicPerMaster(cluster, prefix)).values()];
      const [a, b] = [await startNode(cluster, mode, prefix), await startNode(cluster, mode, prefix)];
      const clients = new Map<string, { client: RawClient; texts: string[] }[]>();
      try {
        for (const topic of topics) {
          const pair = [await subscriber(a, topic), await subscriber(b, topic)];
          clients.set(topic, pair);
          await warmUp(a, topic, pair);
          await warmUp(b, topic, pair);
        }
        for (const pair of clients.values()) for (const c of pair) c.texts.length = 0;
        const count = 200;
        for (let i = 0; i < count; i++) {
          for (const topic of topics) {
            a.server.publish(topic, `a ${topic} ${i}`);
            b.server.publish(topic, `b ${topic} ${i}`);
          }
        }
        const all = [...clients.values()].flat();
        await until(WAIT, 'every message at every client', () =>
          all.every((c) => real(c.texts).length >= 2 * count),
        );
        await sleep(200); // room for a duplicate to show up
        for (const topic of topics) {
          const pair = clients.get(topic)!;
          for (const { texts } of pair) {
            const got = real(texts);
            assert.equal(got.length, 2 * count, `${topic}: exactly every message`);
            for (const from of ['a', 'b']) {
              const expected = Array.from({ length: count }, (_, i) => `${from} ${topic} ${i}`);
              assert.deepEqual(
                got.filter((t) => t.startsWith(`${from} `)),
                expected,
              );
            }
          }
          // Stream mode orders a topic once, in Redis: both servers write the same sequence.
          if (mode === 'stream') assert.deepEqual(real(pair[0]!.texts), real(pair[1]!.texts));
        }
        assert.equal(new Set(topics.map((t) => t)).size, cluster.ports.length);
      } finally {
        await closeAll([a, b], [...clients.values()].flat());
      }
    });
  }

  for (const mode of ['pubsub', 'stream'] as const) {
    it(`${mode}: a busy topic's slot moves to another master while messages flow`, { skip }, async (t) => {
      const prefix = `move-${mode}:`;
      const topic = 'busy';
      const slot = await cluster.slotOf(prefix + topic);
      const from = await cluster.ownerOf(slot);
      const to = cluster.ports.find((p) => p !== from)!;
      const [a, b] = [await startNode(cluster, mode, prefix), await startNode(cluster, mode, prefix)];
      const pair = [await subscriber(a, topic), await subscriber(b, topic)];
      try {
        await warmUp(a, topic, pair);
        for (const c of pair) c.texts.length = 0;
        // One publisher, each publish confirmed before the next: the published order is exact.
        let sent = 0;
        let stop = false;
        const positions: { offset: number; epoch: string }[] = [];
        const publishing = (async () => {
          while (!stop) {
            const result = await a.server.publishConfirmed(topic, `m ${sent}`);
            if (result.position !== null) positions.push(result.position);
            sent++;
            await sleep(2);
          }
        })();
        await until(WAIT, 'messages flowing', () => real(pair[1]!.texts).length >= 50);
        await cluster.migrateSlot(slot, to);
        assert.equal(await cli(to, 'EXISTS', prefix + topic), mode === 'stream' ? '1' : '0');
        const movedAt = sent;
        // Keep publishing until B hears the new owner, then a little more.
        await until(WAIT, 'a message published after the move at B', () =>
          real(pair[1]!.texts).some((t) => Number(t.slice(2)) > movedAt),
        );
        const last = sent + 50;
        await until(WAIT, 'the last messages published', () => sent >= last);
        stop = true;
        await publishing;
        await until(WAIT, 'the last message at both', () =>
          pair.every((c) => real(c.texts).includes(`m ${sent - 1}`)),
        );
        const c = [a, b].map((n) => n.adapter.counters);
        t.diagnostic(
          `${sent} published, ${movedAt} before the move; received ${pair.map((p) => real(p.texts).length)}; ` +
            `gaps repaired ${c.map((x) => x.gapsRepaired)}, duplicates ${c.map((x) => x.duplicates)}`,
        );
        for (const { texts } of pair) {
          const got = real(texts).map((m) => Number(m.slice(2)));
          for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, 'in order, none twice');
          if (mode === 'stream') {
            assert.deepEqual(
              got,
              Array.from({ length: sent }, (_, i) => i),
              'none lost, none twice',
            );
          } else {
            assert.ok(got.some((i) => i > movedAt) && got.length > sent / 2, 'subscribers keep receiving');
          }
        }
        if (mode === 'stream') {
          // The stream moved with its slot: offsets go on from where they were, in the same epoch.
          assert.ok(positions.length === sent && positions.every((p) => p.epoch === positions[0]!.epoch));
          for (let i = 1; i < positions.length; i++)
            assert.equal(positions[i]!.offset, positions[i - 1]!.offset + 1);
          assert.equal(a.adapter.counters.resets + b.adapter.counters.resets, 0);
        }
      } finally {
        await closeAll([a, b], pair);
      }
    });
  }

  for (const mode of ['pubsub', 'stream'] as const) {
    it(`${mode}: a master restarts without its data; its topics come back, the others never stop`, {
      skip,
    }, async () => {
      const prefix = `restart-${mode}:`;
      const byMaster = await topicPerMaster(cluster, prefix);
      const [victim, survivor] = [...byMaster.keys()];
      const [lost, kept] = [byMaster.get(victim!)!, byMaster.get(survivor!)!];
      const [a, b] = [await startNode(cluster, mode, prefix), await startNode(cluster, mode, prefix)];
      const lostPair = [await subscriber(a, lost), await subscriber(b, lost)];
      const keptPair = [await subscriber(a, kept), await subscriber(b, kept)];
      const all = [...lostPair, ...keptPair];
      try {
        await warmUp(a, lost, lostPair);
        await warmUp(a, kept, keptPair);
        for (const c of all) c.texts.length = 0;
        const before = await a.server.publishConfirmed(lost, 'before');
        await until(WAIT, 'the first message at both', () =>
          lostPair.every((c) => real(c.texts).includes('before')),
        );

        await cluster.shutdown(victim!);
        // The dead master's topic: its publish is refused (node-redis gives up on the command
        // after its command timeout, or the cluster answers CLUSTERDOWN while the node rejoins).
        await assert.rejects(a.server.publishConfirmed(lost, 'during'), { name: 'PublishRefusedError' });
        // The other masters' topics carry on meanwhile.
        await b.server.publishConfirmed(kept, 'kept during');
        await until(WAIT, 'the other topic while a master is down', () =>
          keptPair.every((c) => real(c.texts).includes('kept during')),
        );

        const reconnects = [a, b].map((n) => n.adapter.counters.reconnects);
        await cluster.restart(victim!);
        await until(WAIT, 'both links back', () =>
          [a, b].every((n, i) => n.adapter.counters.reconnects > reconnects[i]!),
        );
        // Publish until both servers hear the restarted master again (node-redis resubscribes).
        let after: Awaited<ReturnType<typeof a.server.publishConfirmed>> | null = null;
        await until(WAIT, 'the topic back at both', () => {
          if (lostPair.every((c) => real(c.texts).includes('after'))) return true;
          a.server.publishConfirmed(lost, 'after').then(
            (result) => void (after ??= result),
            () => {},
          );
          return false;
        });
        // Pub/sub mode writes a publish to the publisher's own subscribers at once; Redis refused
        // it, so the other server never has it. Stream mode writes only what Redis ordered.
        const localFirst = mode === 'pubsub';
        assert.equal(lostPair[0]!.texts.includes('during'), localFirst);
        assert.equal(lostPair[1]!.texts.includes('during'), false, 'a refused publish never crosses');
        if (mode === 'stream') {
          // The stream was lost with the master: a new epoch, offsets from 1, and every
          // subscriber of that topic told it may have missed messages.
          assert.notEqual(after!.position!.epoch, before.position!.epoch);
          for (const node of [a, b]) {
            await until(WAIT, 'the recovery report', () => node.recoveries.length > 0);
            assert.deepEqual(
              node.recoveries.map((r) => [r.topic, r.recovered, r.reason]),
              [[lost, false, 'epoch changed']],
            );
          }
        } else {
          for (const node of [a, b]) assert.deepEqual(node.recoveries, []);
        }
      } finally {
        await closeAll([a, b], all);
      }
    });
  }
});
