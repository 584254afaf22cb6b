import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BackpressurePolicy, createServer, type Socket, type WebSocketServer } from '../../src/index.js';
import { RawClient, until } from './helpers.js';

const LIMIT = 256 * 1024;
const SIZE = 64 * 1024;

interface Setup {
  server: WebSocketServer;
  port: number;
  sockets: Map<string, Socket>;
  drains: string[];
  closes: Map<string, number>;
}

async function setup(policy: BackpressurePolicy, closeTimeout = 5_000): Promise<Setup> {
  const server = createServer({ closeTimeout });
  const sockets = new Map<string, Socket>();
  const drains: string[] = [];
  const closes = new Map<string, number>();
  server.route<string>('/c/:name', {
    maxBackpressure: LIMIT,
    backpressurePolicy: policy,
    upgrade: ({ params }) => ({ data: params.name }),
    open(socket) {
      sockets.set(socket.data, socket as Socket);
      socket.subscribe('feed');
    },
    drain(socket) {
      drains.push(socket.data);
    },
    close(socket, code) {
      closes.set(socket.data, code);
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, port, sockets, drains, closes };
}

/** A 64 KiB message whose first 8 bytes are its sequence number. */
function message(seq: number): Buffer {
  const data = Buffer.alloc(SIZE, seq & 0xff);
  data.writeUInt32BE(seq, 0);
  return data;
}

/**
 * Publishes paced like a producer the fast consumers keep up with (it waits while one of them
 * has a full buffer), until `stop` says so. Returns how many were published.
 */
async function publishUntil(
  setup: Setup,
  fast: string[],
  stop: (published: number) => boolean,
): Promise<number> {
  let published = 0;
  while (!stop(published)) {
    if (published >= 3_000) throw new Error('the slow consumer never went over the limit');
    setup.server.publish('feed', message(published));
    published++;
    while (fast.some((name) => (setup.sockets.get(name)?.bufferedAmount ?? 0) > LIMIT / 2)) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return published;
}

function sequences(client: RawClient): number[] {
  return client.frames.filter((f) => f.opcode === 0x2).map((f) => f.payload.readUInt32BE(0));
}

describe('slow consumers', { timeout: 40_000 }, () => {
  it("'drop': a socket over maxBackpressure misses messages while fast ones get everything", async (t) => {
    const s = await setup('drop');
    try {
      const fastNames = ['f1', 'f2', 'f3'];
      const fast = await Promise.all(fastNames.map((name) => RawClient.open(s.port, `/c/${name}`)));
      const slow = await RawClient.open(s.port, '/c/slow');
      slow.socket.pause(); // never reads: the kernel's buffers fill, then the socket's own
      await until(1_000, 'four sockets', () => s.sockets.size === 4);
      const slowSocket = s.sockets.get('slow')!;

      let extra = 0;
      const published = await publishUntil(s, fastNames, () => {
        if (s.server.stats().messages.dropped.backpressure === 0) return false;
        return ++extra > 30;
      });
      assert.ok(slowSocket.bufferedAmount > LIMIT, 'the slow socket is over the limit');
      assert.equal(slowSocket.send('direct'), 'dropped', 'send reports dropped while over the limit');
      assert.equal(slowSocket.readyState, 'open');
      const dropped = s.server.stats().messages.dropped.backpressure;
      assert.ok(dropped >= 31);
      t.diagnostic(`published ${published} x 64 KiB; ${dropped - 1} dropped for the slow consumer`);

      await until(20_000, 'the fast consumers to get everything', () =>
        fast.every((client) => client.messages === published),
      );
      const all = Array.from({ length: published }, (_, i) => i);
      for (const client of fast) assert.deepEqual(sequences(client), all);

      // Once it reads again, the slow consumer gets what was written to it, in order, and the
      // `drain` handler is told when its buffer empties.
      slow.socket.resume();
      await until(20_000, 'the slow consumer to catch up', () => slow.messages === published - (dropped - 1));
      const got = sequences(slow);
      assert.deepEqual(
        got,
        [...got].sort((a, b) => a - b),
      );
      assert.ok(got.length < published);
      await until(2_000, 'drain', () => s.drains.includes('slow'));
      const stats = s.server.stats();
      assert.equal(stats.slowConsumerCloses, 0);
      assert.equal(stats.messages.dropped.backpressure, dropped);
    } finally {
      await s.server.close({ timeout: 1_000 });
    }
  });

  it("'close': a socket over maxBackpressure is closed with 1013 while fast ones get everything", async () => {
    const s = await setup('close', 10_000);
    try {
      const fastNames = ['f1', 'f2'];
      const fast = await Promise.all(fastNames.map((name) => RawClient.open(s.port, `/c/${name}`)));
      const slow = await RawClient.open(s.port, '/c/slow');
      slow.socket.pause();
      await until(1_000, 'three sockets', () => s.sockets.size === 3);
      const slowSocket = s.sockets.get('slow')!;

      let extra = 0;
      const published = await publishUntil(s, fastNames, () => {
        if (slowSocket.readyState === 'open') return false;
        return ++extra > 20;
      });
      assert.equal(slowSocket.readyState, 'closing');
      assert.equal(s.server.subscribers('feed'), 3, 'still subscribed until it has closed');
      await until(20_000, 'the fast consumers to get everything', () =>
        fast.every((client) => client.messages === published),
      );
      const all = Array.from({ length: published }, (_, i) => i);
      for (const client of fast) assert.deepEqual(sequences(client), all);

      // The slow consumer reads again: what was buffered, then the 1013 close frame.
      slow.socket.resume();
      await slow.closed;
      assert.equal(slow.closeCode, 1013);
      const got = sequences(slow);
      assert.deepEqual(
        got,
        Array.from({ length: got.length }, (_, i) => i),
        'a prefix, nothing after the close',
      );
      await until(2_000, 'the server to see the close', () => s.closes.has('slow'));
      assert.equal(s.closes.get('slow'), 1013);
      const stats = s.server.stats();
      assert.equal(stats.slowConsumerCloses, 1);
      assert.equal(stats.closes['1013'], 1);
      assert.ok(stats.messages.dropped.backpressure >= 1);
      assert.equal(s.server.subscribers('feed'), 2);
      for (const name of fastNames) assert.equal(s.sockets.get(name)!.readyState, 'open');
    } finally {
      await s.server.close({ timeout: 1_000 });
    }
  });
});
