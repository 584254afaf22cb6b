// A wsx node (stream mode) is killed while messages flow to its 1,000 subscribers; they
// reconnect to the other node with the last position they saw and recover: nothing lost,
// nothing twice, order kept.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { listeningUrl, NODE, portOf } from '../shared/cli.js';
import { sleep, until } from '../shared/wait.js';
import { Subscriber } from './nodes.js';
import { RedisServer, redisSkip } from './redis-server.js';

const CLIENTS = 1_000;
const FIXTURE = new URL('./fixtures/stream-node.js', import.meta.url).pathname;

async function startProcess(redisUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(NODE, [FIXTURE, redisUrl, 'failover:'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = portOf(await listeningUrl(child, 20_000));
  return { child, port };
}

async function openAll(
  port: number,
  since: (i: number) => Subscriber['last'] | undefined,
): Promise<Subscriber[]> {
  const all: Subscriber[] = [];
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) =>
      Subscriber.open(port, 'live', since(i + j)),
    );
    all.push(...(await Promise.all(batch)));
  }
  return all;
}

describe('a wsx node killed under load (stream mode)', { timeout: 120_000 }, () => {
  it(`moves its ${CLIENTS.toLocaleString('en')} subscribers to the other node: 0 lost, 0 duplicated, order kept`, {
    skip: redisSkip,
  }, async (t) => {
    const began = performance.now();
    // Where the time went, for whoever reads the run (not asserted).
    const phase = (name: string) =>
      t.diagnostic(`${name} after ${(performance.now() - began).toFixed(0)} ms`);
    const redis = await RedisServer.start();
    const a = await startProcess(redis.url);
    const b = await startProcess(redis.url);
    let clients: Subscriber[] = [];
    let moved: Subscriber[] = [];
    let publisher: Subscriber | null = null;
    let publishing = true;
    try {
      // The publisher is on node B, which stays up, and subscribed: what it gets back is what Redis accepted, in order.
      publisher = await Subscriber.open(b.port, 'live');
      clients = await openAll(a.port, () => undefined);
      let n = 0;
      const flow = (async () => {
        while (publishing) {
          publisher!.send(`m${n++}`);
          await sleep(20);
        }
      })();
      phase('subscribed');
      await until(60_000, 'messages at every subscriber', () =>
        clients.every((c) => c.received.length >= 10),
      );
      phase('killing');
      a.child.kill('SIGKILL');
      await once(a.child, 'exit');
      await until(60_000, 'every subscriber to see the drop', () => clients.every((c) => c.closed));
      phase('dropped');
      moved = await openAll(b.port, (i) => clients[i]!.last);
      phase('reconnected');
      const mark = n;
      await until(60_000, 'messages after the failover', () =>
        moved.every((c) => c.texts.includes(`m${mark + 10}`)),
      );
      phase('flowing again');
      publishing = false;
      await flow;
      const sent = `m${n - 1}`;
      await until(60_000, 'the last message back at the publisher', () => publisher!.texts.includes(sent));
      const accepted = publisher.texts;
      await until(60_000, 'the last message everywhere', () => moved.every((c) => c.texts.includes(sent)));
      let lost = 0;
      let duplicated = 0;
      for (let i = 0; i < CLIENTS; i++) {
        const got = [...clients[i]!.texts, ...moved[i]!.texts];
        const expected = accepted.slice(accepted.indexOf(got[0]!));
        duplicated += got.length - new Set(got).size;
        const seen = new Set(got);
        lost += expected.filter((text) => !seen.has(text)).length;
        assert.deepEqual(got, expected, `subscriber ${i}: every message once, in order`);
        const offsets = [...clients[i]!.received, ...moved[i]!.received].map((m) => m.offset!);
        for (let k = 1; k < offsets.length; k++) assert.equal(offsets[k], offsets[k - 1]! + 1);
        assert.equal(moved[i]!.recoveries.length, 1);
        assert.equal(moved[i]!.recoveries[0]!.recovered, true);
      }
      assert.equal(lost, 0);
      assert.equal(duplicated, 0);
    } finally {
      publishing = false;
      for (const client of [...clients, ...moved, ...(publisher ? [publisher] : [])])
        client.socket?.terminate();
      for (const node of [a, b]) {
        if (node.child.exitCode === null && node.child.signalCode === null) {
          node.child.kill('SIGTERM');
          await once(node.child, 'exit');
        }
      }
      await redis.dispose();
    }
  });
});
