import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connect,
  createServer,
  MemoryTopicBus,
  ServerSocket,
  Socket,
  type WebSocketServer,
} from '../../src/index.js';
import { openMany, RawClient, until, within } from './helpers.js';

/** A server whose route `/t/:topic` subscribes each socket to its topic when it opens. */
async function topicServer(
  options: Parameters<typeof createServer>[0] = {},
): Promise<{ server: WebSocketServer; port: number }> {
  const server = createServer(options);
  server.route<unknown>('/t/:topic', {
    upgrade: ({ params }) => ({ data: params.topic }),
    open(socket) {
      socket.subscribe(socket.data as string);
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, port };
}

describe('topics', { timeout: 40_000 }, () => {
  it('fans a publish out to 2,000 sockets, every message exactly once and in order', async (t) => {
    const { server, port } = await topicServer();
    const count = 2_000;
    const messages = 20;
    try {
      const clients = await openMany(count, port, '/t/news');
      assert.equal(server.subscribers('news'), count);
      const received = clients.map(() => [] as string[]);
      clients.forEach((client, index) => {
        client.keepFrames = false;
        client.onFrame = (frame) => received[index].push(frame.payload.toString('utf8'));
      });
      const started = performance.now();
      for (let i = 0; i < messages; i++) {
        assert.equal(server.publish('news', `message ${i} `.padEnd(100, '.')), count);
      }
      const publishing = performance.now() - started;
      await until(20_000, 'every message at every client', () =>
        clients.every((client) => client.messages >= messages),
      );
      const elapsed = performance.now() - started;
      t.diagnostic(
        `fan-out: ${messages} x 100-byte messages to ${count} sockets in ${elapsed.toFixed(0)} ms ` +
          `(${Math.round((messages * count) / (elapsed / 1000)).toLocaleString('en')} deliveries/s, the clients ` +
          `parsing in the same process); the publish calls themselves took ${publishing.toFixed(1)} ms`,
      );
      const expected = Array.from({ length: messages }, (_, i) => `message ${i} `.padEnd(100, '.'));
      for (const list of received) assert.deepEqual(list, expected);
      const stats = server.stats();
      assert.equal(stats.topics.published, messages);
      assert.equal(stats.messages.out, messages * count);
      assert.equal(stats.topics.subscriptions, count);
      for (const client of clients) client.socket.destroy();
      await until(5_000, 'the sockets to close', () => server.connections === 0);
      assert.equal(server.subscribers('news'), 0);
      assert.deepEqual(server.topics(), []);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('frames a publish once: every subscriber writes the same Buffer', async () => {
    const { server, port } = await topicServer();
    const proto = Socket.prototype as unknown as { write(data: Uint8Array): void };
    const original = proto.write;
    const written: Uint8Array[] = [];
    try {
      const clients = await openMany(50, port, '/t/once');
      proto.write = function (this: Socket, data: Uint8Array) {
        written.push(data);
        original.call(this, data);
      };
      assert.equal(server.publish('once', Buffer.from('same bytes for everyone')), 50);
      proto.write = original;
      assert.equal(written.length, 50);
      assert.equal(new Set(written).size, 1, 'one Buffer shared by all');
      await until(3_000, 'delivery', () => clients.every((c) => c.messages === 1));
      for (const client of clients) {
        assert.equal(client.frames[0].opcode, 0x2);
        assert.equal(client.frames[0].payload.toString(), 'same bytes for everyone');
      }
    } finally {
      proto.write = original;
      await server.close({ timeout: 1_000 });
    }
  });

  it('subscribes, unsubscribes, publishes with exceptSelf, and forgets closed sockets', async () => {
    const server = createServer();
    const sockets: ServerSocket[] = [];
    server.route('/', {
      open(socket) {
        sockets.push(socket);
      },
    });
    const { port } = await server.listen({ port: 0 });
    try {
      const [a, b, c] = await Promise.all([RawClient.open(port), RawClient.open(port), RawClient.open(port)]);
      await until(1_000, 'three sockets', () => sockets.length === 3);
      const [sa, sb, sc] = sockets;
      assert.equal(sa.subscribe('room'), true);
      assert.equal(sa.subscribe('room'), false);
      assert.equal(sb.subscribe('room'), true);
      assert.equal(sc.subscribe('other'), true);
      assert.equal(sa.isSubscribed('room'), true);
      assert.equal(sc.isSubscribed('room'), false);
      assert.deepEqual(sa.subscriptions, ['room']);
      assert.equal(server.subscribers('room'), 2);
      assert.deepEqual(server.topics().sort(), ['other', 'room']);
      const members = server.subscribersOf('room');
      assert.deepEqual(
        [...members].sort((x, y) => sockets.indexOf(x) - sockets.indexOf(y)),
        [sa, sb],
      );
      assert.deepEqual([...server.subscribersOf('nobody')], []);

      assert.equal(sa.publish('room', 'from a', { exceptSelf: true }), 1);
      assert.equal(sa.publish('room', 'to all'), 2);
      assert.equal(sc.publish('room', 'from c, not subscribed'), 2);
      assert.equal(server.publish('nobody', 'lost'), 0);
      await until(2_000, 'deliveries', () => a.messages === 2 && b.messages === 3);
      assert.deepEqual(a.texts(), ['to all', 'from c, not subscribed']);
      assert.deepEqual(b.texts(), ['from a', 'to all', 'from c, not subscribed']);
      assert.equal(c.messages, 0);

      assert.equal(sb.unsubscribe('room'), true);
      assert.equal(sb.unsubscribe('room'), false);
      assert.equal(server.subscribers('room'), 1);
      assert.deepEqual(sb.subscriptions, []);
      assert.deepEqual([...server.subscribersOf('room')], [sa]);
      assert.equal(members.size, 2, 'subscribersOf gave a copy, which later changes leave as it was');

      // One topic, then several, then one again, then none (a socket holds one topic without a Set).
      for (const topic of ['t1', 't2', 't3']) assert.equal(sc.subscribe(topic), true);
      assert.equal(sc.subscribe('t2'), false);
      assert.deepEqual(sc.subscriptions.sort(), ['other', 't1', 't2', 't3']);
      for (const topic of ['other', 't1', 't3']) assert.equal(sc.unsubscribe(topic), true);
      assert.equal(sc.unsubscribe('t1'), false);
      assert.deepEqual(sc.subscriptions, ['t2']);
      assert.equal(sc.isSubscribed('t2'), true);
      assert.equal(sc.isSubscribed('t1'), false);
      assert.equal(sc.unsubscribe('t2'), true);
      assert.deepEqual(sc.subscriptions, []);
      assert.equal(sc.subscribe('other'), true);
      assert.deepEqual(sc.subscriptions, ['other']);

      a.socket.destroy();
      await until(2_000, 'a to close', () => server.subscribers('room') === 0);
      assert.equal(sa.isSubscribed('room'), false);
      assert.equal(sa.subscribe('room'), false, 'a closed socket cannot subscribe');
      assert.equal(server.stats().topics.subscriptions, 1);
      b.socket.destroy();
      c.socket.destroy();
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('sends strings as text and bytes as binary, unless told otherwise', async () => {
    const { server, port } = await topicServer();
    try {
      const client = await RawClient.open(port, '/t/types');
      server.publish('types', 'text');
      server.publish('types', new Uint8Array([1, 2, 3]));
      server.publish('types', 'as binary', { binary: true });
      server.publish('types', Buffer.from('bytes as text'), { binary: false });
      server.publish('types', new Uint16Array([0x0201]).buffer);
      await until(2_000, 'five messages', () => client.messages === 5);
      assert.deepEqual(
        client.frames.map((f) => [f.opcode, f.payload.toString('hex')]),
        [
          [1, Buffer.from('text').toString('hex')],
          [2, '010203'],
          [2, Buffer.from('as binary').toString('hex')],
          [1, Buffer.from('bytes as text').toString('hex')],
          [2, '0102'],
        ],
      );
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('holds a published frame until an outgoing fragmented message is finished', async () => {
    const server = createServer();
    let socket: ServerSocket | undefined;
    server.route('/', {
      open(s) {
        socket = s;
        s.subscribe('t');
      },
    });
    const { port } = await server.listen({ port: 0 });
    try {
      const client = await RawClient.open(port);
      await until(1_000, 'the socket', () => socket !== undefined);
      socket!.sendFragment('first ', { binary: false, fin: false });
      assert.equal(server.publish('t', 'published'), 1);
      assert.ok(socket!.bufferedAmount >= 11, 'the held frame counts as buffered');
      socket!.sendFragment('second', { binary: false, fin: true });
      await until(2_000, 'three frames', () => client.frames.length === 3);
      assert.deepEqual(
        client.frames.map((f) => [f.opcode, f.fin, f.payload.toString()]),
        [
          [1, false, 'first '],
          [0, true, 'second'],
          [1, true, 'published'],
        ],
      );
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('carries topics between servers through an adapter (MemoryTopicBus)', async () => {
    const bus = new MemoryTopicBus();
    const one = await topicServer({ topicAdapter: bus.adapter() });
    const two = await topicServer({ topicAdapter: bus.adapter() });
    try {
      const [a, b] = await Promise.all([
        RawClient.open(one.port, '/t/room'),
        RawClient.open(two.port, '/t/room'),
      ]);
      const elsewhere = await RawClient.open(two.port, '/t/elsewhere');
      assert.equal(one.server.publish('room', 'hello both'), 1, 'local count');
      assert.equal(two.server.publish('room', 'and back'), 1);
      await until(2_000, 'both messages at both', () => a.messages === 2 && b.messages === 2);
      assert.deepEqual(a.texts(), ['hello both', 'and back']);
      assert.deepEqual(b.texts(), ['hello both', 'and back']);
      assert.equal(elsewhere.messages, 0);
      b.socket.destroy();
      await until(2_000, 'b to leave', () => two.server.subscribers('room') === 0);
      one.server.publish('room', 'only a');
      await until(2_000, 'a third message', () => a.messages === 3);
      assert.equal(b.messages, 2);
    } finally {
      await Promise.all([one.server.close({ timeout: 1_000 }), two.server.close({ timeout: 1_000 })]);
    }
  });

  it('gives topics to server sockets only: a client socket has none', async () => {
    const { server, port } = await topicServer();
    try {
      const client = await within(3_000, 'connect', connect(`ws://127.0.0.1:${port}/t/x`));
      assert.equal(client instanceof ServerSocket, false);
      for (const name of ['subscribe', 'unsubscribe', 'publish', 'isSubscribed', 'sendPrepared']) {
        assert.equal(name in client, false, name);
      }
      client.close();
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});
