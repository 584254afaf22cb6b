// Uninitialised memory must never reach the wire (the class of ws's CVE-2016-10518, where
// `ping(50)` sent 50 bytes of uninitialised memory through `new Buffer(number)`): pongs echo exactly the ping's payload, close frames carry
// exactly the code and the reason, messages exactly what was sent. Before each operation the
// free part of Node's Buffer pool — where `Buffer.allocUnsafe` takes small buffers from — is
// filled with a marker pattern; any byte of it on the wire would be a leak. (The pool is only
// dirtied past what is already handed out, so no live buffer is touched.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Socket } from '../../src/index.js';
import { encodeFrame, encodeTextFrame } from '../../src/protocol/serializer.js';
import { clientConnection, feed, serverConnection } from './core.js';
import { clientFrame, FrameCollector, Op, rawUpgrade, readFrames, type WireFrame } from './helpers.js';

const MARKER = Buffer.from('c0ffeeee', 'hex');

/** Fills the not-yet-allocated rest of the current Buffer pool slab with MARKER; returns the bytes dirtied. */
function dirtyPool(): number {
  // Start on a fresh slab, half full, so that half a pool of dirty bytes lies ahead. The pool's
  // size is read, not assumed: Node has changed it (8 KiB, then 64 KiB).
  const largestPooled = (Buffer.poolSize >>> 1) - 1;
  for (let i = 0; i < 3; i++) {
    const probe = Buffer.allocUnsafe(largestPooled);
    if (probe.byteOffset === 0) break;
  }
  const mark = Buffer.allocUnsafe(1);
  const slab = Buffer.from(mark.buffer);
  const from = (mark.byteOffset + 8) & ~7;
  slab.fill(MARKER, from);
  return slab.length - from;
}

/** Payload bytes that can never form the marker (all below 0xc0). */
function cleanBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) % 0xbf;
  return out;
}

function assertNoMarker(bytes: Buffer, what: string): void {
  for (let shift = 0; shift < 4; shift++) {
    // Any 3-byte window of the marker, at any alignment, counts.
    const window = Buffer.concat([MARKER, MARKER]).subarray(shift, shift + 3);
    assert.equal(bytes.indexOf(window), -1, `${what}: pool bytes leaked onto the wire`);
  }
}

describe('the pool-dirtying check itself', () => {
  it('dirties what the next allocUnsafe returns (else these tests would prove nothing)', () => {
    assert.ok(dirtyPool() >= 4000);
    const next = Buffer.allocUnsafe(125);
    assert.ok(next.includes(MARKER), 'a fresh unsafe buffer shows the marker');
  });
});

describe('the protocol core writes no uninitialised bytes', () => {
  for (const role of ['server', 'client'] as const) {
    it(`${role}: a pong carries exactly the ping's payload, for every length 0-125`, () => {
      for (let length = 0; length <= 125; length++) {
        const payload = cleanBytes(length, length);
        const { conn, sink } = role === 'server' ? serverConnection() : clientConnection();
        const ping =
          role === 'server' ? clientFrame(Op.Ping, payload) : clientFrame(Op.Ping, payload, { mask: null });
        // Arrives in two reads, so the payload is gathered into a buffer the parser allocates.
        const cut = Math.max(1, ping.length - Math.ceil(length / 2));
        dirtyPool();
        conn.receive(Buffer.from(ping.subarray(0, cut)));
        dirtyPool();
        conn.receive(Buffer.from(ping.subarray(cut)));
        const frames = sink.frames();
        assert.equal(frames.length, 1, `length ${length}`);
        assert.equal(frames[0].opcode, Op.Pong);
        assert.equal(frames[0].masked, role === 'client');
        assert.ok(frames[0].payload.equals(payload), `pong payload for length ${length}`);
        assert.ok(sink.pings[0].equals(payload), `ping handler payload for length ${length}`);
        if (role === 'server') assertNoMarker(sink.written, `pong of ${length} bytes`);
      }
    });

    it(`${role}: close frames carry exactly the code and the reason, for every reason length 0-123`, () => {
      for (let length = 0; length <= 123; length++) {
        const reason = 'r'.repeat(length % 3) + 'é'.repeat(Math.floor((length - (length % 3)) / 2));
        const reasonBytes = Buffer.from(reason, 'utf8');
        const { conn, sink } = role === 'server' ? serverConnection() : clientConnection();
        dirtyPool();
        conn.close(4000 + length, reason);
        const [frame] = sink.frames();
        assert.equal(frame.opcode, Op.Close);
        assert.equal(frame.payload.length, 2 + reasonBytes.length);
        assert.equal(frame.payload.readUInt16BE(0), 4000 + length);
        assert.ok(frame.payload.subarray(2).equals(reasonBytes), `reason of ${reasonBytes.length} bytes`);
        if (role === 'server') assertNoMarker(sink.written, `close with a reason of ${length} bytes`);
      }
    });
  }

  it('the reply to a close frame echoes exactly its code and reason', () => {
    for (let length = 0; length <= 123; length += 7) {
      const { conn, sink } = serverConnection();
      const payload = Buffer.concat([
        Buffer.from([0x0f, 0xa0]),
        cleanBytes(length, 3).map((b) => 0x20 + (b % 0x5e)),
      ]);
      dirtyPool();
      feed(conn, clientFrame(Op.Close, payload));
      const frames = sink.frames();
      assert.equal(frames.length, 1);
      assert.ok(frames[0].payload.equals(payload), `reason of ${length} bytes`);
      assertNoMarker(sink.written, 'close reply');
    }
  });

  it('the close frame of a failed connection holds only the code and a short UTF-8 reason', () => {
    const violations: Buffer[] = [
      Buffer.from([0x83, 0x80, 0, 0, 0, 0]), // reserved opcode
      Buffer.from([0xc1, 0x80, 0, 0, 0, 0]), // RSV1 without an extension
      Buffer.from([0x81, 0x00]), // unmasked client frame
      Buffer.from([0x89, 0xfe, 0x00, 0x7e, 0, 0, 0, 0]), // ping of 126 bytes
      Buffer.from([0x09, 0x80, 0, 0, 0, 0]), // fragmented ping
      Buffer.from([0x80, 0x80, 0, 0, 0, 0]), // continuation with no message
      Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // 64-bit length with the top bit
      Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]), // too big
      Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]), // invalid UTF-8
      Buffer.from([0x88, 0x81, 0, 0, 0, 0, 0x03]), // close payload of one byte
      Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xed]), // close code 1005 on the wire
      Buffer.from([0x88, 0x84, 0, 0, 0, 0, 0x03, 0xe8, 0xc3, 0x28]), // close reason not UTF-8
    ];
    for (const input of violations) {
      const { conn, sink } = serverConnection({ maxMessageSize: 1024 });
      dirtyPool();
      feed(conn, input);
      assert.equal(sink.failures.length, 1, `failure for ${input.toString('hex')}`);
      const [frame] = sink.frames();
      assert.equal(frame.opcode, Op.Close);
      assert.ok(frame.payload.length >= 2 && frame.payload.length <= 125);
      assert.equal(frame.payload.readUInt16BE(0), sink.failures[0].closeCode);
      const reason = frame.payload.subarray(2);
      assert.ok(Buffer.from(reason.toString('utf8'), 'utf8').equals(reason), 'the reason is valid UTF-8');
      assertNoMarker(sink.written, `failure close for ${input.toString('hex')}`);
    }
  });

  it('text frames hold exactly the UTF-8 of their string, lone surrogates included', () => {
    const strings = [
      '',
      'a',
      'é',
      '€',
      '😀',
      '\ud800',
      '\udc00',
      'a\ud800b',
      '\udbff\udfff',
      '\ud83d',
      'x'.repeat(125),
    ];
    for (const text of strings) {
      for (const mask of [null, Buffer.from([1, 2, 3, 4])]) {
        dirtyPool();
        const frame = encodeTextFrame(Op.Text, true, false, text, mask);
        const decoded: WireFrame[] = readFrames(frame).frames;
        assert.equal(decoded.length, 1, JSON.stringify(text));
        assert.ok(decoded[0].payload.equals(Buffer.from(text, 'utf8')), JSON.stringify(text));
        assertNoMarker(frame, `text frame ${JSON.stringify(text)}`);
        const binary = encodeFrame(Op.Binary, true, false, Buffer.from(text), mask);
        assert.ok(readFrames(binary).frames[0].payload.equals(Buffer.from(text)));
      }
    }
  });

  it('a fragmented message holds exactly its fragments, never spare buffer bytes', () => {
    for (const sizes of [
      [1, 1],
      [3, 100, 7],
      [5000, 1],
      [1, 5000],
      [2, 3, 4000, 2],
    ]) {
      const { conn, sink } = serverConnection();
      const parts = sizes.map((size, i) => cleanBytes(size, i));
      const stream = Buffer.concat(
        parts.map((part, i) =>
          clientFrame(i === 0 ? Op.Binary : Op.Continuation, part, { fin: i === parts.length - 1 }),
        ),
      );
      for (let at = 0; at < stream.length; at += 3) {
        dirtyPool();
        conn.receive(Buffer.from(stream.subarray(at, at + 3)));
      }
      assert.equal(sink.messages.length, 1);
      assert.ok(sink.messages[0].data.equals(Buffer.concat(parts)), `fragments ${sizes.join('+')}`);
    }
  });
});

describe('a real server writes no uninitialised bytes', () => {
  let port: number;
  const server = createServer();
  server.route('/leak', {
    message(socket: Socket, data: Buffer) {
      const command = data.toString('utf8');
      // Dirty the pool, then let the rest of the same read (a ping) or a close use it.
      dirtyPool();
      if (command.startsWith('close:')) {
        const length = Number(command.slice(6));
        socket.close(3000 + length, 'x'.repeat(length));
      }
    },
  });

  before(async () => {
    ({ port } = await server.listen({ port: 0 }));
  });
  after(async () => {
    await server.close({ timeout: 500 });
  });

  it('pongs echo exactly the ping payload of every length, read right after a dirtying message', async () => {
    const { socket, rest } = await rawUpgrade(port, '/leak');
    const collector = new FrameCollector(socket, rest);
    const parts: Buffer[] = [];
    for (let length = 0; length <= 125; length++) {
      parts.push(clientFrame(Op.Text, 'dirty'), clientFrame(Op.Ping, cleanBytes(length, length)));
    }
    socket.write(Buffer.concat(parts));
    await collector.until(
      () => collector.frames.filter((f) => f.opcode === Op.Pong).length === 126,
      5000,
      '126 pongs',
    );
    const pongs = collector.frames.filter((f) => f.opcode === Op.Pong);
    pongs.forEach((pong, length) => {
      assert.ok(pong.payload.equals(cleanBytes(length, length)), `pong of ${length} bytes`);
      assertNoMarker(pong.payload, `pong of ${length} bytes`);
    });
    socket.destroy();
  });

  it('close frames carry exactly the code and reason the application gave', async () => {
    for (const length of [0, 1, 2, 3, 60, 122, 123]) {
      const { socket, rest } = await rawUpgrade(port, '/leak');
      const collector = new FrameCollector(socket, rest);
      socket.write(clientFrame(Op.Text, `close:${length}`));
      await collector.until(() => collector.closeFrame() !== undefined, 5000, 'the close frame');
      const close = collector.frames.find((f) => f.opcode === Op.Close)!;
      assert.equal(close.payload.length, 2 + length);
      assert.equal(close.payload.readUInt16BE(0), 3000 + length);
      assert.equal(close.payload.subarray(2).toString('latin1'), 'x'.repeat(length));
      socket.destroy();
    }
  });
});
