// The Node Socket gathers the small frames written in one tick into one buffer for the
// transport: fewer stream writes, one iovec instead of many. Large payloads still go as they
// are, after what was gathered before them; bufferedAmount and backpressure count gathered
// bytes; the transport ends only after the frames gathered before it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket as NetSocket, connect as netConnect } from 'node:net';
import { describe, it } from 'node:test';
import { DEFAULT_SOCKET_SETTINGS, Socket, type SocketHandlers } from '../../src/node/socket.js';
import { clientFrame, closePayload, decodeFrames, Op } from '../unit/helpers.js';
import { until, within } from './helpers.js';

interface Pair {
  socket: Socket<null>;
  transport: NetSocket;
  /** Every buffer the server handed to `transport.write`, in order. */
  writes: Buffer[];
  peer: NetSocket;
  /** Everything the peer received. */
  received: () => Buffer;
  close: () => Promise<void>;
}

/** A server Socket over a loopback TCP connection whose transport writes are recorded. */
async function pair(handlers: SocketHandlers<null> = {}): Promise<Pair> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const peer = netConnect(address.port, '127.0.0.1');
  const [transport] = (await once(server, 'connection')) as [NetSocket];
  const chunks: Buffer[] = [];
  peer.on('data', (chunk: Buffer) => chunks.push(chunk));
  const writes: Buffer[] = [];
  const write = transport.write.bind(transport) as (data: Uint8Array) => boolean;
  transport.write = ((data: Uint8Array) => {
    writes.push(Buffer.from(data));
    return write(data);
  }) as NetSocket['write'];
  const socket = new Socket<null>({
    role: 'server',
    transport,
    handlers,
    data: null,
    protocol: '',
    extensions: '',
    url: '/',
    settings: DEFAULT_SOCKET_SETTINGS,
    limits: {},
  });
  socket.start(undefined);
  return {
    socket,
    transport,
    writes,
    peer,
    received: () => Buffer.concat(chunks),
    close: async () => {
      peer.destroy();
      transport.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('Socket write gathering', () => {
  it('small frames of one tick go out as one write; a large payload between them keeps its place', async () => {
    const p = await pair();
    try {
      const big = Buffer.alloc(20_000, 7);
      for (let i = 0; i < 10; i++) p.socket.sendBinary(Buffer.from([i]));
      p.socket.sendBinary(big);
      for (let i = 10; i < 15; i++) p.socket.sendText(`m${i}`);
      // Before the flush nothing small has reached the transport, and bufferedAmount counts it.
      assert.equal(p.writes.length, 2, 'the frames gathered before the large payload, then the payload');
      const wire = 10 * 3 + 4 + big.length + 5 * 5;
      assert.ok(p.socket.bufferedAmount >= 5 * 5, `bufferedAmount ${p.socket.bufferedAmount}`);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(p.writes.length, 3);
      assert.equal(p.writes[0].length, 10 * 3 + 4, '10 small frames and the large frame header');
      assert.equal(p.writes[1].length, big.length);
      assert.equal(p.writes[2].length, 5 * 5);
      await within(
        5000,
        'all bytes at the peer',
        until(5000, 'bytes', () => p.received().length === wire),
      );
      const frames = decodeFrames(p.received());
      assert.deepEqual(
        frames.map((f) => (f.payload.length === 1 ? f.payload[0] : f.payload.toString('latin1').slice(0, 3))),
        [...Array.from({ length: 10 }, (_, i) => i), '\x07\x07\x07', 'm10', 'm11', 'm12', 'm13', 'm14'],
      );
    } finally {
      await p.close();
    }
  });

  it('sockets writing in turn in one tick: each peer gets its own frames, whole and in order', async () => {
    const pairs = await Promise.all([pair(), pair(), pair()]);
    try {
      const prepared = Buffer.from([0x82, 0x01, 0xee]);
      // Frames encoded in place share one buffer between sockets; a frame made elsewhere (a
      // prepared broadcast frame) and a large one go between them and must keep their places.
      for (let i = 0; i < 30; i++) {
        const p = pairs[i % 3];
        if (i % 7 === 3) p.socket.sendFrame(prepared);
        else if (i === 20) p.socket.sendBinary(Buffer.alloc(6000, i));
        else p.socket.sendText(`s${i % 3} m${i} ${'é'.repeat(i)}`);
      }
      for (const [n, p] of pairs.entries()) {
        const expected: string[] = [];
        for (let i = n; i < 30; i += 3) {
          if (i % 7 === 3) expected.push('prepared');
          else if (i === 20) expected.push('large');
          else expected.push(`s${n} m${i} ${'é'.repeat(i)}`);
        }
        const decode = () =>
          decodeFrames(p.received()).map((f) =>
            f.opcode === Op.Text ? f.payload.toString() : f.payload.length === 6000 ? 'large' : 'prepared',
          );
        const arrived = () => {
          try {
            return decode().length === expected.length;
          } catch {
            return false; // a frame still on its way
          }
        };
        await until(5000, `frames at peer ${n}`, arrived);
        assert.deepEqual(decode(), expected);
      }
    } finally {
      for (const p of pairs) await p.close();
    }
  });

  it('frames queued for a peer that does not read keep their bytes while other sockets write many ticks', async () => {
    // The slab small frames are encoded into is reused from its start after a tick whose
    // writes the kernel took whole; a write it took only in part leaves a view of the slab
    // queued, and then the slab must not be written over.
    const slow = await pair();
    const fast = await pair();
    try {
      slow.peer.pause();
      const sent: Buffer[] = [];
      const message = (n: number) => {
        const bytes = Buffer.alloc(1000, n & 0xff);
        bytes.writeUInt32BE(n, 0);
        return bytes;
      };
      while (slow.transport.writableLength === 0) {
        for (let i = 0; i < 64; i++) {
          const bytes = message(sent.length);
          sent.push(bytes);
          slow.socket.sendBinary(bytes);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      // One frame more each tick, so that a slab written over from its start would reach
      // wherever in it the queued view lies.
      for (let tick = 1; tick <= 60; tick++) {
        for (let i = 0; i < tick; i++) fast.socket.sendBinary(Buffer.alloc(1000, 0xee));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until(
        30_000,
        'the other peer to get its frames',
        () => fast.received().length === ((60 * 61) / 2) * 1004,
      );
      slow.peer.resume();
      await until(
        30_000,
        'the slow peer to get every frame',
        () => slow.received().length === sent.length * 1004,
      );
      const payloads = decodeFrames(slow.received()).map((frame) => frame.payload);
      assert.equal(payloads.length, sent.length);
      for (let n = 0; n < sent.length; n++) assert.ok(payloads[n].equals(sent[n]), `message ${n} intact`);
    } finally {
      await slow.close();
      await fast.close();
    }
  });

  it('a single small frame is written as it is, without a copy', async () => {
    const p = await pair();
    try {
      p.socket.sendBinary(Buffer.from('one'));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(p.writes.length, 1);
      assert.equal(p.writes[0].length, 5);
    } finally {
      await p.close();
    }
  });

  it('frames gathered before the server ends the transport (closing handshake) are written first', async () => {
    const p = await pair({
      message(socket) {
        for (let i = 0; i < 5; i++) socket.sendText(`reply ${i}`);
      },
    });
    try {
      const ended = once(p.peer, 'end');
      // One TCP write: a message (five replies gathered), then a close frame (reply and end).
      p.peer.write(Buffer.concat([clientFrame(Op.Text, 'hi'), clientFrame(Op.Close, closePayload(1000))]));
      await within(5000, 'the server to end the connection', ended);
      const frames = decodeFrames(p.received());
      assert.deepEqual(
        frames.map((f) => f.opcode),
        [Op.Text, Op.Text, Op.Text, Op.Text, Op.Text, Op.Close],
      );
      assert.equal(frames[4].payload.toString(), 'reply 4');
    } finally {
      await p.close();
    }
  });

  it('sends past backpressureLimit report backpressure while still gathered', async () => {
    const p = await pair();
    try {
      const statuses: string[] = [];
      // 4 KiB frames are gathered; about 1 MiB of them crosses the default limit within the tick.
      const frame = Buffer.alloc(4096, 1);
      for (let i = 0; i < 300; i++) statuses.push(p.socket.sendBinary(frame));
      assert.equal(statuses[0], 'sent');
      assert.ok(statuses.includes('backpressure'), 'backpressure was reported');
      const firstBackpressure = statuses.indexOf('backpressure');
      const limit = DEFAULT_SOCKET_SETTINGS.backpressureLimit;
      assert.ok(
        (firstBackpressure + 1) * (4096 + 4) > limit,
        `backpressure at ${firstBackpressure} frames is too early`,
      );
    } finally {
      await p.close();
    }
  });
});
