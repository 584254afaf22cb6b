// The permessage-deflate codec (RFC 7692 §7.2) and the RSV1 rules around it, on the sans-I/O
// Connection: the 0x00 0x00 0xff 0xff tail, context takeover or reset in each direction, window
// sizes (8 included), invalid compressed data, RSV1 where it may not be, fragmented compressed
// messages across frames and reads, UTF-8 checked after inflating, and the message limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { PerMessageDeflate } from '../../src/protocol/extensions/permessage-deflate.js';
import { sharedDeflaterFor } from '../../src/protocol/extensions/shared-deflater.js';
import type { DecodedSink, MessageEncoding, MessageExtension } from '../../src/protocol/message-extension.js';
import {
  deflateMessage,
  frame,
  Harness,
  jsonText,
  KiB,
  MiB,
  noise,
  Op,
  params,
  prng,
  split,
  TAIL,
  TakeoverDeflater,
  utf8Text,
} from './helpers.js';

const HELLO_COMPRESSED = Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
/** RFC 7692 §7.2.3.4: "Hello" in a DEFLATE block with BFINAL set, then an empty non-final block header. */
const BFINAL_HELLO = Buffer.from([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]);

/** Inflates a payload as RFC 7692 §7.2.2 says: append the tail, inflate. */
function inflatePayload(payload: Buffer, windowBits = 15): Buffer {
  return inflateRawSync(Buffer.concat([payload, TAIL]), { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
}

function endsWithTail(data: Buffer): boolean {
  return data.length >= 4 && data.subarray(data.length - 4).equals(TAIL);
}

describe('the tail (RFC 7692 §7.2.1, §7.2.2)', () => {
  it('is stripped from what is sent, and what is sent inflates back with it appended', () => {
    for (const takeover of [true, false]) {
      const codec = new PerMessageDeflate(params({ localNoContextTakeover: !takeover }), MiB);
      for (const size of [1, 5, 125, 1000, 70 * KiB]) {
        const message = Buffer.from(jsonText(size, size));
        const encoded = codec.encode(message);
        assert.ok(!endsWithTail(encoded), `no tail (size ${size}, takeover ${takeover})`);
        if (!takeover) assert.deepEqual(inflatePayload(encoded), message);
      }
      codec.release();
    }
  });

  it('an empty message is sent as the single byte 0x00 (§7.2.3.6), with or without context takeover', () => {
    for (const localNoContextTakeover of [false, true]) {
      const codec = new PerMessageDeflate(params({ localNoContextTakeover }), MiB);
      assert.deepEqual(codec.encode(Buffer.alloc(0)), Buffer.from([0x00]));
      assert.deepEqual(codec.encode(Buffer.alloc(0)), Buffer.from([0x00]), 'and again after a first one');
      codec.release();
    }
    assert.deepEqual(sharedDeflaterFor(params()).compress(Buffer.alloc(0)), Buffer.from([0x00]));
  });

  it('Connection.sendText/sendBinary with compress put the stripped payload in one frame with RSV1', () => {
    const h = new Harness('server');
    const text = jsonText(3000);
    h.connection.sendText(text, true);
    h.connection.sendBinary(Buffer.alloc(0), true);
    const [first, second] = h.frames();
    assert.equal(first.opcode, Op.Text);
    assert.ok(first.fin && first.rsv1);
    assert.ok(!endsWithTail(first.payload));
    assert.ok(first.payload.length < 1000, 'JSON-like text compresses');
    assert.equal(inflatePayload(first.payload).toString(), text);
    assert.equal(second.opcode, Op.Binary);
    assert.ok(second.rsv1);
    assert.deepEqual(second.payload, Buffer.from([0x00]));
  });

  it('the client masks compressed frames like any other', () => {
    const h = new Harness('client');
    h.connection.sendText('hello hello hello hello', true);
    const [sent] = h.frames();
    assert.ok(sent.rsv1);
    assert.equal(inflatePayload(sent.payload).toString(), 'hello hello hello hello');
    assert.ok(h.written[0][1] & 0x80, 'masked');
  });

  it('the receiver appends the tail: the RFC 7692 §7.2.3 examples decode', () => {
    const h = new Harness('server');
    h.feed({ opcode: Op.Text, rsv: 4, payload: HELLO_COMPRESSED }); // §7.2.3.1
    // §7.2.3.2: the same message sharing the window of the previous one
    h.feed({ opcode: Op.Text, rsv: 4, payload: Buffer.from([0xf2, 0x00, 0x11, 0x00, 0x00]) });
    // §7.2.3.3: a stored (uncompressed) DEFLATE block
    h.feed({
      opcode: Op.Text,
      rsv: 4,
      payload: Buffer.from('0005 00faff 48656c6c6f 00'.replaceAll(' ', ''), 'hex'),
    });
    // §7.2.3.6: the empty message
    h.feed({ opcode: Op.Binary, rsv: 4, payload: Buffer.from([0x00]) });
    assert.equal(h.failure, null);
    assert.deepEqual(
      h.messages.map((m) => m.data.toString()),
      ['Hello', 'Hello', 'Hello', ''],
    );
    assert.equal(h.messages[3].isBinary, true);
  });

  it('a payload that kept its tail (a sender that did not strip it) decodes too', () => {
    const h = new Harness('server');
    const full = deflateRawSync(Buffer.from('tail kept'), { finishFlush: constants.Z_SYNC_FLUSH });
    h.feed({ opcode: Op.Text, rsv: 4, payload: full });
    assert.equal(h.failure, null);
    assert.equal(h.messages[0].data.toString(), 'tail kept');
  });

  it('a compressed frame with an empty payload is an empty message', () => {
    const h = new Harness('server');
    h.feed({ opcode: Op.Text, rsv: 4, payload: Buffer.alloc(0) });
    assert.equal(h.failure, null);
    assert.equal(h.messages[0].data.length, 0);
  });

  it('uncompressed messages (RSV1 clear) still pass through on a deflate connection (§6)', () => {
    const h = new Harness('server');
    h.feed({ opcode: Op.Text, payload: Buffer.from('plain') });
    h.feed({ opcode: Op.Text, rsv: 4, payload: HELLO_COMPRESSED });
    h.feed({ opcode: Op.Binary, payload: Buffer.from([0xf2, 0x48]) });
    assert.deepEqual(
      h.messages.map((m) => m.data),
      [Buffer.from('plain'), Buffer.from('Hello'), Buffer.from([0xf2, 0x48])],
    );
  });
});

/** How a frame's payload went, judged from its bytes: compressed, stored blocks (RSV1 set), or plain. */
function encodingOf(f: { rsv1: boolean; payload: Buffer }, sent: Buffer): string {
  if (!f.rsv1) return f.payload.equals(sent) ? 'plain' : 'plain but changed';
  return f.payload.equals(storedForm(sent)) ? 'stored' : 'compressed';
}

/**
 * RFC 1951 §3.2.4 stored blocks of at most 65,535 bytes, written from the RFC, then the first
 * byte of the empty stored block whose LEN and NLEN the receiver appends (0x00 alone for nothing, §7.2.3.6).
 */
function storedForm(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += 0xffff) {
    const block = data.subarray(at, at + 0xffff);
    const header = Buffer.from([
      0,
      block.length & 0xff,
      block.length >> 8,
      ~block.length & 0xff,
      (~block.length >> 8) & 0xff,
    ]);
    parts.push(header, block);
  }
  return Buffer.concat([...parts, Buffer.from([0x00])]);
}

/** Inflates messages in order through one zlib context, as a receiver that keeps its context does. */
async function inflateInOneContext(payloads: Buffer[], windowBits = 15): Promise<Buffer[]> {
  const stream = createInflateRaw({ windowBits });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const out: Buffer[] = [];
  for (const payload of payloads) {
    stream.write(Buffer.concat([payload, TAIL]));
    await new Promise<void>((resolve) => stream.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    out.push(Buffer.concat(chunks.splice(0)));
  }
  stream.close();
  return out;
}

describe('sending: threshold, compress flag, fragments', () => {
  it('without context takeover on this side, what is not compressed goes as stored blocks, RSV1 set', () => {
    for (const role of ['server', 'client'] as const) {
      const h = new Harness(role, params({ threshold: 1024, localNoContextTakeover: true }));
      const sent = [
        'x'.repeat(1023),
        'x'.repeat(1024),
        'x'.repeat(10),
        'x'.repeat(5000),
        '',
        'é'.repeat(200),
      ];
      h.connection.sendText(sent[0]);
      h.connection.sendText(sent[1]);
      h.connection.sendText(sent[2], true);
      h.connection.sendText(sent[3], false);
      h.connection.sendText(sent[4]);
      h.connection.sendBinary(Buffer.from(sent[5]));
      const frames = h.frames();
      assert.deepEqual(
        frames.map((f, i) => encodingOf(f, Buffer.from(sent[i]))),
        ['stored', 'compressed', 'compressed', 'stored', 'stored', 'stored'],
        role,
      );
      for (const [i, f] of frames.entries()) assert.deepEqual(inflatePayload(f.payload).toString(), sent[i]);
    }
  });

  it('with context takeover on this side, what is not compressed goes plain: stored bytes would skew the window', () => {
    const h = new Harness('server', params({ threshold: 1024 }));
    const sent = ['x'.repeat(1023), 'x'.repeat(1024), 'x'.repeat(10), 'x'.repeat(5000)];
    h.connection.sendText(sent[0]);
    h.connection.sendText(sent[1]);
    h.connection.sendText(sent[2], true);
    h.connection.sendText(sent[3], false);
    assert.deepEqual(
      h.frames().map((f, i) => encodingOf(f, Buffer.from(sent[i]))),
      ['plain', 'compressed', 'compressed', 'plain'],
    );
  });

  it('stored and compressed messages in a row decode through one inflater kept across them (byte-aligned ends)', async () => {
    for (const localMaxWindowBits of [15, 8]) {
      const h = new Harness(
        'server',
        params({ threshold: 1024, localNoContextTakeover: true, localMaxWindowBits }),
      );
      const sent = ['{', 'x'.repeat(5000), '', 'é'.repeat(100), jsonText(70_000), 'end'];
      for (const text of sent) h.connection.sendText(text);
      h.connection.sendFragment(false, 'frag', false);
      h.connection.sendFragment(false, 'ments', true);
      h.connection.sendText('last');
      const frames = h.frames();
      const payloads = [...frames.slice(0, sent.length).map((f) => f.payload)];
      payloads.push(Buffer.concat([frames[sent.length].payload, frames[sent.length + 1].payload]));
      payloads.push(frames[sent.length + 2].payload);
      const decoded = await inflateInOneContext(payloads, Math.max(localMaxWindowBits, 9));
      assert.deepEqual(
        decoded.map((d) => d.toString()),
        [...sent, 'fragments', 'last'],
        `${localMaxWindowBits}-bit window`,
      );
    }
  });

  it('a stored message over 64 KiB spans several blocks and is written without copying it (server)', () => {
    const h = new Harness('server', params({ localNoContextTakeover: true }));
    const message = noise(200_000);
    h.connection.sendBinary(message, false);
    const [f] = h.frames();
    assert.equal(encodingOf(f, message), 'stored');
    assert.ok(
      h.written.some((piece) => piece.length === 0xffff),
      'the blocks go out as pieces of the message, not one gathered copy',
    );
    assert.deepEqual(inflatePayload(f.payload), message);
  });

  it('a message sent in fragments: stored blocks with RSV1 on its first frame without context takeover, else plain', () => {
    for (const localNoContextTakeover of [true, false]) {
      const h = new Harness('server', params({ localNoContextTakeover }));
      const parts = [jsonText(2000), '', jsonText(70_000)];
      h.connection.sendFragment(false, parts[0], false);
      h.connection.sendFragment(false, parts[1], false);
      h.connection.sendFragment(false, parts[2], true);
      h.connection.sendText('after');
      const frames = h.frames();
      const stored = localNoContextTakeover;
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.rsv1, f.fin]),
        [
          [Op.Text, stored, false],
          [Op.Continuation, false, false],
          [Op.Continuation, false, true],
          [Op.Text, true, true],
        ],
      );
      const payload = Buffer.concat(frames.slice(0, 3).map((f) => f.payload));
      const message = Buffer.from(parts.join(''));
      assert.deepEqual(stored ? inflatePayload(payload) : payload, message);
      // What the receiving side of a wsx connection makes of it:
      const peer = new Harness('client', params({ remoteNoContextTakeover: localNoContextTakeover }));
      peer.connection.receive(Buffer.concat(h.written));
      assert.equal(peer.failure, null);
      assert.deepEqual(
        peer.messages.map((m) => m.data.toString()),
        [parts.join(''), 'after'],
      );
    }
  });

  it('without an extension, compress: true changes nothing', () => {
    const h = new Harness('server', null);
    h.connection.sendText(jsonText(5000), true);
    assert.equal(h.frames()[0].rsv1, false);
  });
});

describe("a message's last piece and the tail", () => {
  /** Collects what a codec decodes. */
  function sink(): DecodedSink & { bytes(): Buffer } {
    const out: Buffer[] = [];
    return { appendDecoded: (piece) => void out.push(Buffer.from(piece)), bytes: () => Buffer.concat(out) };
  }

  it("decode byte-exact whatever the last piece's size around the one-pass limit, on interleaved connections", async () => {
    // Up to 8 KiB the last piece is inflated together with the tail in one zlib call, through a
    // buffer all connections share; larger, piece and tail go in two calls.
    const peers = [0, 1].map(() => ({
      codec: new PerMessageDeflate(params(), MiB),
      deflater: new TakeoverDeflater(),
    }));
    let seed = 1;
    for (const lastPiece of [1, 8191, 8192, 8193, 8196, 20_000]) {
      for (const kind of ['noise', 'json'] as const) {
        for (const peer of peers) {
          const message =
            kind === 'noise' ? noise(lastPiece + 3000) : Buffer.from(jsonText(lastPiece * 3 + 500, seed++));
          const compressed = await peer.deflater.message(message);
          const cut = Math.max(0, compressed.length - lastPiece);
          const out = sink();
          if (cut > 0) peer.codec.decode(compressed.subarray(0, cut), false, out);
          peer.codec.decode(compressed.subarray(cut), true, out);
          assert.ok(out.bytes().equals(message), `${kind}, last piece ${compressed.length - cut} B`);
        }
      }
    }
    for (const peer of peers) {
      peer.codec.release();
      peer.deflater.close();
    }
  });
});

describe('context takeover vs reset, each direction', () => {
  const message = Buffer.from(jsonText(4000, 7));

  it('with takeover the same message compresses smaller the second time (it refers to the first)', () => {
    const codec = new PerMessageDeflate(params(), MiB);
    const first = codec.encode(message);
    const second = codec.encode(message);
    assert.ok(second.length < first.length / 4, `${second.length} vs ${first.length}`);
    // A fresh inflater cannot decode the second alone: it needs the first one's window.
    assert.throws(() => inflatePayload(second));
    codec.release();
  });

  it('with server_no_context_takeover (sender side) each message is compressed alone: identical bytes', () => {
    const codec = new PerMessageDeflate(params({ localNoContextTakeover: true }), MiB);
    const first = codec.encode(message);
    const second = codec.encode(message);
    assert.deepEqual(second, first);
    assert.deepEqual(first, sharedDeflaterFor(params()).compress(message));
    assert.deepEqual(inflatePayload(second), message);
  });

  it('the Connection output follows the same rule, in both roles', () => {
    for (const role of ['server', 'client'] as const) {
      for (const localNoContextTakeover of [false, true]) {
        const h = new Harness(role, params({ localNoContextTakeover }));
        h.connection.sendBinary(message, true);
        h.connection.sendBinary(message, true);
        const [a, b] = h.frames();
        if (localNoContextTakeover) assert.deepEqual(a.payload, b.payload, role);
        else assert.ok(b.payload.length < a.payload.length / 4, role);
      }
    }
  });

  it('receiving with takeover keeps the window between messages', async () => {
    const peer = new TakeoverDeflater();
    const h = new Harness('server', params({ remoteNoContextTakeover: false }));
    for (let i = 0; i < 5; i++) {
      const payload = await peer.message(message);
      if (i > 0) assert.ok(payload.length < 100, 'the peer refers back to earlier messages');
      h.feed({ opcode: Op.Binary, rsv: 4, payload });
    }
    peer.close();
    assert.equal(h.failure, null);
    assert.equal(h.messages.length, 5);
    for (const m of h.messages) assert.deepEqual(m.data, message);
  });

  it('receiving with the peer resetting (no context takeover): independent messages decode', () => {
    for (const remoteNoContextTakeover of [true, false]) {
      const h = new Harness('client', params({ remoteNoContextTakeover }));
      for (let i = 0; i < 3; i++) h.feed({ opcode: Op.Binary, rsv: 4, payload: deflateMessage(message) });
      assert.equal(h.failure, null);
      assert.equal(h.messages.length, 3);
      for (const m of h.messages) assert.deepEqual(m.data, message);
    }
  });

  it('a message interleaving compressed and uncompressed messages keeps the compressed window intact', async () => {
    const peer = new TakeoverDeflater();
    const h = new Harness('server');
    h.feed({ opcode: Op.Text, rsv: 4, payload: await peer.message(message) });
    h.feed({ opcode: Op.Text, payload: Buffer.from('plain in between') });
    h.feed({ opcode: Op.Text, rsv: 4, payload: await peer.message(message) });
    peer.close();
    assert.equal(h.failure, null);
    assert.deepEqual(
      h.messages.map((m) => m.data.length),
      [message.length, 16, message.length],
    );
  });
});

describe('receiving stored blocks (what wsx sends uncompressed with RSV1)', () => {
  const block = (data: Buffer, header = 0x00) =>
    Buffer.concat([
      Buffer.from([
        header,
        data.length & 0xff,
        data.length >> 8,
        ~data.length & 0xff,
        (~data.length >> 8) & 0xff,
      ]),
      data,
    ]);

  it('whole messages of stored blocks decode, from a peer that resets its context or keeps it', () => {
    for (const remoteNoContextTakeover of [true, false]) {
      const h = new Harness('client', params({ remoteNoContextTakeover }));
      const big = noise(200_000);
      const cases: Buffer[] = [
        Buffer.from([0x00]), // empty (§7.2.3.6)
        storedForm(Buffer.from('hello é')),
        storedForm(big), // four blocks
        Buffer.concat([
          block(Buffer.from('padding ')),
          block(Buffer.from('bits'), 0xf8),
          Buffer.from([0x00]),
        ]), // zlib ignores them
        Buffer.concat([block(Buffer.from('then compressed')), deflateMessage(Buffer.from(' data'))]),
      ];
      for (const payload of cases) h.feed({ opcode: Op.Binary, rsv: 4, payload });
      assert.equal(h.failure, null);
      assert.deepEqual(
        h.messages.map((m) => m.data),
        [
          Buffer.alloc(0),
          Buffer.from('hello é'),
          big,
          Buffer.from('padding bits'),
          Buffer.from('then compressed data'),
        ],
      );
    }
  });

  it('a stored block whose LEN and NLEN disagree → 1007; stored data over the message limit → 1009', () => {
    const bad = Buffer.concat([
      Buffer.from([0x00, 0x03, 0x00, 0xfc, 0xfe]),
      Buffer.from('abc'),
      Buffer.from([0x00]),
    ]);
    const h = new Harness('client', params({ remoteNoContextTakeover: true }));
    h.feed({ opcode: Op.Binary, rsv: 4, payload: bad });
    assert.equal(h.failCode, 1007);
    const small = new Harness('client', params({ remoteNoContextTakeover: true }), 1000);
    small.feed({ opcode: Op.Binary, rsv: 4, payload: storedForm(noise(1001)) });
    assert.equal(small.failCode, 1009);
  });
});

describe('window sizes', () => {
  it('8 bits: zlib cannot deflate raw with an 8-bit window, so wsx sends stored blocks (RSV1 set, no back-references)', () => {
    const codec = new PerMessageDeflate(params({ localMaxWindowBits: 8 }), MiB);
    assert.equal(codec.encoding(100_000, true), 'stored');
    assert.equal(codec.encoding(100_000, undefined), 'stored');
    for (const role of ['server', 'client'] as const) {
      const h = new Harness(role, params({ localMaxWindowBits: 8, threshold: 0 }));
      const text = jsonText(5000);
      h.connection.sendText(text, true);
      h.connection.sendBinary(Buffer.from(text));
      const frames = h.frames();
      assert.deepEqual(
        frames.map((f) => encodingOf(f, Buffer.from(text))),
        ['stored', 'stored'],
      );
      assert.equal(
        inflatePayload(frames[0].payload, 9).toString(),
        text,
        'inflates with the smallest window',
      );
    }
  });

  for (let bits = 9; bits <= 15; bits++) {
    it(`${bits} bits: what wsx sends stays within the window, and it inflates what a ${bits}-bit peer sends`, async () => {
      // 1 KiB of noise repeated: the repeats are 1 KiB back, beyond a 9-bit window.
      const message = Buffer.concat(Array.from({ length: 8 }, () => noise(KiB).fill(0x61, 0, 10)));
      const h = new Harness('server', params({ localMaxWindowBits: bits, remoteMaxWindowBits: bits }));
      h.connection.sendBinary(message, true);
      const payload = h.frames()[0].payload;
      assert.deepEqual(inflatePayload(payload, bits), message, `inflates with a ${bits}-bit window`);
      // and what a peer compressed with that window (with takeover) comes through
      const peer = new TakeoverDeflater(bits);
      h.feed({ opcode: Op.Binary, rsv: 4, payload: await peer.message(message) });
      h.feed({ opcode: Op.Binary, rsv: 4, payload: await peer.message(message) });
      peer.close();
      assert.equal(h.failure, null);
      assert.equal(h.messages.length, 2);
      for (const m of h.messages) assert.deepEqual(m.data, message);
    });
  }

  it('8 bits agreed for the peer: data compressed with the smallest window zlib makes (9) inflates', async () => {
    const h = new Harness('server', params({ remoteMaxWindowBits: 8 }));
    const message = Buffer.from(jsonText(20_000));
    const peer = new TakeoverDeflater(9);
    h.feed({ opcode: Op.Text, rsv: 4, payload: await peer.message(message) });
    h.feed({ opcode: Op.Text, rsv: 4, payload: await peer.message(message) });
    peer.close();
    assert.equal(h.failure, null);
    assert.equal(h.messages.length, 2);
    for (const m of h.messages) assert.deepEqual(m.data, message);
  });

  it('a peer that refers back further than the agreed window (into an earlier message) → 1007', async () => {
    const block = noise(4 * KiB);
    const peer = new TakeoverDeflater(15);
    const h = new Harness('server', params({ remoteMaxWindowBits: 9 }));
    h.feed({ opcode: Op.Binary, rsv: 4, payload: await peer.message(block) });
    // the same 4 KiB again: a copy from 4 KiB back, outside a 512-byte window
    h.feed({ opcode: Op.Binary, rsv: 4, payload: await peer.message(block) });
    peer.close();
    assert.equal(h.messages.length, 1);
    assert.equal(h.failCode, 1007);
  });
});

describe('invalid data and RSV1 misuse', () => {
  for (const [what, payload] of [
    ['a reserved block type (BTYPE 11)', Buffer.from([0xff, 0xff, 0xff])],
    ['a stored block whose length check fails', Buffer.from([0x00, 0x05, 0x00, 0x00, 0x00, 0x41])],
    ['random bytes', Buffer.from('d9a6c1e0f7b3', 'hex')],
    [
      'a distance before the start of the stream (compressed against a dictionary the receiver lacks)',
      deflateRawSync(Buffer.from('Hello, Hello'), {
        dictionary: Buffer.from('Hello, '),
        finishFlush: constants.Z_SYNC_FLUSH,
      }).subarray(0, -4),
    ],
  ] as const) {
    it(`invalid compressed data: ${what} → 1007`, () => {
      for (const role of ['server', 'client'] as const) {
        const h = new Harness(role);
        h.feed({ opcode: Op.Binary, rsv: 4, payload });
        assert.equal(h.failCode, 1007, `${role}: ${h.failure?.message}`);
        assert.equal(h.messages.length, 0);
        // The close frame sent says 1007.
        const close = h.frames().find((f) => f.opcode === Op.Close)!;
        assert.equal(close.payload.readUInt16BE(0), 1007);
      }
    });
  }

  it('invalid data in a later fragment → 1007 as soon as it arrives', () => {
    const h = new Harness('server');
    const good = deflateMessage(Buffer.from(jsonText(10_000)));
    h.feed({ opcode: Op.Text, rsv: 4, fin: false, payload: good.subarray(0, 100) });
    assert.equal(h.failure, null);
    h.feed({ opcode: Op.Continuation, fin: false, payload: Buffer.from([0xff, 0xff, 0xff, 0xff]) });
    assert.equal(h.failCode, 1007);
  });

  for (const opcode of [Op.Ping, Op.Pong, Op.Close]) {
    it(`RSV1 on a control frame (opcode ${opcode}) → 1002`, () => {
      const h = new Harness('server');
      h.feed({ opcode, rsv: 4, payload: opcode === Op.Close ? Buffer.from([0x03, 0xe8]) : Buffer.alloc(0) });
      assert.equal(h.failCode, 1002);
      assert.equal(h.pings.length, 0);
    });
  }

  it('RSV1 on a continuation frame → 1002', () => {
    const payload = deflateMessage(Buffer.from(jsonText(3000)));
    const h = new Harness('server');
    h.feed({ opcode: Op.Text, rsv: 4, fin: false, payload: payload.subarray(0, 10) });
    h.feed({ opcode: Op.Continuation, rsv: 4, fin: true, payload: payload.subarray(10) });
    assert.equal(h.failCode, 1002);
    assert.equal(h.messages.length, 0);
  });

  it('RSV1 on a continuation of an uncompressed message → 1002', () => {
    const h = new Harness('client');
    h.feed({ opcode: Op.Binary, fin: false, payload: Buffer.from('ab') });
    h.feed({ opcode: Op.Continuation, rsv: 4, payload: HELLO_COMPRESSED });
    assert.equal(h.failCode, 1002);
  });

  it('RSV1 without permessage-deflate negotiated → 1002, in both roles', () => {
    for (const role of ['server', 'client'] as const) {
      const h = new Harness(role, null);
      h.feed({ opcode: Op.Text, rsv: 4, payload: HELLO_COMPRESSED });
      assert.equal(h.failCode, 1002, role);
      assert.equal(h.messages.length, 0);
    }
  });

  it('RSV2 and RSV3 stay reserved with permessage-deflate → 1002', () => {
    for (const rsv of [2, 1, 6, 5, 7]) {
      const h = new Harness('server');
      h.feed({ opcode: Op.Text, rsv, payload: HELLO_COMPRESSED });
      assert.equal(h.failCode, 1002, `rsv ${rsv}`);
    }
  });
});

describe('UTF-8 of compressed text is checked after inflating', () => {
  it('invalid UTF-8 inside compressed text → 1007', () => {
    for (const bad of [
      Buffer.from([0xc3, 0x28]),
      Buffer.from([0xed, 0xa0, 0x80]), // a surrogate
      Buffer.from([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
      Buffer.from([0xc0, 0xaf]), // overlong
      Buffer.concat([Buffer.from(jsonText(5000)), Buffer.from([0xff])]),
    ]) {
      const h = new Harness('server');
      h.feed({ opcode: Op.Text, rsv: 4, payload: deflateMessage(bad) });
      assert.equal(h.failCode, 1007, bad.subarray(-4).toString('hex'));
      assert.equal(h.messages.length, 0);
    }
  });

  it('text truncated inside a character at the end of the message → 1007', () => {
    const h = new Harness('client');
    const text = Buffer.from('ok 🌍');
    h.feed({ opcode: Op.Text, rsv: 4, payload: deflateMessage(text.subarray(0, text.length - 1)) });
    assert.equal(h.failCode, 1007);
  });

  it('the same bytes as a binary message are fine', () => {
    const h = new Harness('server');
    h.feed({ opcode: Op.Binary, rsv: 4, payload: deflateMessage(Buffer.from([0xc3, 0x28, 0xff])) });
    assert.equal(h.failure, null);
    assert.deepEqual(h.messages[0].data, Buffer.from([0xc3, 0x28, 0xff]));
  });

  it('invalid UTF-8 early in a long fragmented compressed message fails before the rest arrives', () => {
    const bad = Buffer.concat([Buffer.from([0xff]), Buffer.from(jsonText(200_000))]);
    const payload = deflateMessage(bad);
    const h = new Harness('server');
    const pieces = split(payload, [200]);
    h.feed({ opcode: Op.Text, rsv: 4, fin: false, payload: pieces[0] });
    for (let i = 1; i < 3; i++) h.feed({ opcode: Op.Continuation, fin: false, payload: pieces[i] });
    assert.equal(h.failCode, 1007);
  });

  it('multi-byte characters split across inflated pieces and frames are valid', () => {
    const text = utf8Text(300 * KiB);
    const payload = deflateMessage(Buffer.from(text));
    const h = new Harness('server');
    const pieces = split(payload, [1, 7, 333, 4096]);
    pieces.forEach((piece, i) => {
      h.feed({
        opcode: i === 0 ? Op.Text : Op.Continuation,
        rsv: i === 0 ? 4 : 0,
        fin: i === pieces.length - 1,
        payload: piece,
      });
    });
    assert.equal(h.failure, null);
    assert.equal(h.messages[0].data.toString(), text);
  });
});

/** Wraps an extension to record how decoding went: pieces out before the message's end. */
class RecordingExtension implements MessageExtension {
  decodedBeforeEnd = 0;
  calls = 0;
  constructor(private readonly inner: PerMessageDeflate) {}
  decode(piece: Buffer, end: boolean, output: DecodedSink): void {
    this.calls++;
    this.inner.decode(piece, end, {
      appendDecoded: (decoded, transient) => {
        if (!end) this.decodedBeforeEnd += decoded.length;
        output.appendDecoded(decoded, transient);
      },
    });
  }
  encoding(size: number, force: boolean | undefined): MessageEncoding {
    return this.inner.encoding(size, force);
  }
  encode(payload: Uint8Array): Buffer {
    return this.inner.encode(payload);
  }
  store(payload: Uint8Array, end: boolean): Uint8Array[] {
    return this.inner.store(payload, end);
  }
  get sharedCompression() {
    return this.inner.sharedCompression;
  }
  hibernate(): boolean {
    return this.inner.hibernate();
  }
  release(): void {
    this.inner.release();
  }
}

describe('fragmented compressed messages', () => {
  for (const [name, makeMessage] of [
    ['JSON-like text', (size: number) => Buffer.from(jsonText(size))],
    ['noise', (size: number) => noise(size)],
  ] as const) {
    it(`${name}: split across many frames and many TCP reads, inflated as it arrives`, () => {
      const random = prng(name.length);
      for (const size of [0, 1, 1000, 65_536, 500 * KiB]) {
        const message = makeMessage(size);
        const payload = deflateMessage(message);
        for (const frameSizes of [[1], [3, 1, 4, 1, 5, 9, 2, 6], [1000], [16 * KiB, 1]]) {
          // tiny frames only for small payloads: quick, and within maxFragments
          if (Math.max(...frameSizes) < 100 && payload.length > 20_000) continue;
          const h = new Harness('server');
          const recorder = new RecordingExtension(new PerMessageDeflate(params(), 16 * MiB));
          h.connection.useExtension(recorder);
          const pieces = split(payload, frameSizes);
          const wire = Buffer.concat(
            pieces.map((piece, i) =>
              frame({
                opcode: i === 0 ? (name === 'noise' ? Op.Binary : Op.Text) : Op.Continuation,
                rsv: i === 0 ? 4 : 0,
                fin: i === pieces.length - 1,
                payload: piece,
                masked: true,
              }),
            ),
          );
          // feed in reads of random sizes, 1 byte to 3 KiB
          for (let pos = 0; pos < wire.length; ) {
            const take = 1 + Math.floor(random() * 3 * KiB);
            h.connection.receive(Buffer.from(wire.subarray(pos, pos + take)));
            pos += take;
          }
          const label = `${name} ${size} B in frames of ${frameSizes.join(',')}`;
          assert.equal(h.failure, null, `${label}: ${h.failure?.message}`);
          assert.equal(h.messages.length, 1, label);
          assert.deepEqual(h.messages[0].data, message, label);
          if (size >= 65_536) {
            assert.ok(recorder.decodedBeforeEnd > size / 2, `${label}: inflated as frames came in`);
          }
        }
      }
    });
  }

  it('control frames between the fragments of a compressed message', () => {
    const message = Buffer.from(jsonText(50_000));
    const pieces = split(deflateMessage(message), [500]);
    const h = new Harness('server');
    pieces.forEach((piece, i) => {
      h.feed({
        opcode: i === 0 ? Op.Text : Op.Continuation,
        rsv: i === 0 ? 4 : 0,
        fin: i === pieces.length - 1,
        payload: piece,
      });
      if (i % 3 === 0) h.feed({ opcode: Op.Ping, payload: Buffer.from(`p${i}`) });
    });
    assert.equal(h.failure, null);
    assert.deepEqual(h.messages[0].data, message);
    assert.equal(h.pings.length, Math.ceil(pieces.length / 3));
  });

  it('several fragmented compressed messages in a row with context takeover', async () => {
    const peer = new TakeoverDeflater();
    const h = new Harness('client');
    const messages = [jsonText(30_000, 1), jsonText(30_000, 1), jsonText(10, 2), '', jsonText(70_000, 3)];
    for (const text of messages) {
      const pieces = split(await peer.message(Buffer.from(text)), [7, 300]);
      pieces.forEach((piece, i) => {
        h.feed({
          opcode: i === 0 ? Op.Text : Op.Continuation,
          rsv: i === 0 ? 4 : 0,
          fin: i === pieces.length - 1,
          payload: piece,
        });
      });
    }
    peer.close();
    assert.equal(h.failure, null);
    assert.deepEqual(
      h.messages.map((m) => m.data.toString()),
      messages,
    );
  });
});

describe('the message limit applies to the inflated size', () => {
  const LIMIT = 100 * KiB;

  it('a message that inflates to exactly maxMessageSize is accepted; one byte more → 1009', () => {
    for (const role of ['server', 'client'] as const) {
      const ok = new Harness(role, params(), LIMIT);
      ok.feed({ opcode: Op.Binary, rsv: 4, payload: deflateMessage(Buffer.alloc(LIMIT, 7)) });
      assert.equal(ok.failure, null);
      assert.equal(ok.messages[0].data.length, LIMIT);

      const over = new Harness(role, params(), LIMIT);
      over.feed({ opcode: Op.Binary, rsv: 4, payload: deflateMessage(Buffer.alloc(LIMIT + 1, 7)) });
      assert.equal(over.failCode, 1009, role);
      assert.equal(over.messages.length, 0);
    }
  });

  it('the limit counts the whole message across fragments and is hit while inflating', () => {
    const h = new Harness('server', params(), LIMIT);
    const payload = deflateMessage(Buffer.alloc(10 * LIMIT));
    const pieces = split(payload, [64]);
    let fedFrames = 0;
    for (const [i, piece] of pieces.entries()) {
      h.feed({
        opcode: i === 0 ? Op.Binary : Op.Continuation,
        rsv: i === 0 ? 4 : 0,
        fin: i === pieces.length - 1,
        payload: piece,
      });
      fedFrames++;
      if (h.failure !== null) break;
    }
    assert.equal(h.failCode, 1009);
    assert.ok(fedFrames < pieces.length / 2, `failed after ${fedFrames} of ${pieces.length} frames`);
  });

  it('after a message that fills the limit, the next one gets the whole limit again', () => {
    const h = new Harness('server', params(), LIMIT);
    for (let i = 0; i < 3; i++)
      h.feed({ opcode: Op.Binary, rsv: 4, payload: deflateMessage(Buffer.alloc(LIMIT, i)) });
    assert.equal(h.failure, null);
    assert.equal(h.messages.length, 3);
  });
});

describe('BFINAL (RFC 7692 §7.2.3.4)', () => {
  it('a message compressed into a final DEFLATE block decodes', () => {
    const h = new Harness('server');
    h.feed({
      opcode: Op.Text,
      rsv: 4,
      payload: Buffer.from([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]),
    });
    assert.equal(h.failure, null);
    assert.equal(h.messages[0].data.toString(), 'Hello');
  });

  // A final block ends zlib's stream: before 1e776c7 the inflater then ignored all later input
  // and the next compressed message arrived as an EMPTY message (found by these tests).
  it('the message after a BFINAL message decodes (not silently empty)', () => {
    const h = new Harness('server');
    h.feed({ opcode: Op.Text, rsv: 4, payload: BFINAL_HELLO });
    h.feed({ opcode: Op.Text, rsv: 4, payload: HELLO_COMPRESSED });
    h.feed({ opcode: Op.Text, rsv: 4, payload: BFINAL_HELLO });
    h.feed({ opcode: Op.Binary, rsv: 4, payload: deflateMessage(Buffer.from('third')) });
    assert.equal(h.failure, null);
    assert.deepEqual(
      h.messages.map((m) => m.data.toString()),
      ['Hello', 'Hello', 'Hello', 'third'],
    );
  });

  it('with context takeover, the next message may refer back into the BFINAL message', () => {
    const h = new Harness('client');
    h.feed({ opcode: Op.Text, rsv: 4, payload: BFINAL_HELLO });
    // §7.2.3.2: "Hello" as a copy of the 5 bytes before it
    h.feed({ opcode: Op.Text, rsv: 4, payload: Buffer.from([0xf2, 0x00, 0x11, 0x00, 0x00]) });
    assert.equal(h.failure, null);
    assert.deepEqual(
      h.messages.map((m) => m.data.toString()),
      ['Hello', 'Hello'],
    );
  });

  it('a BFINAL block in a fragmented message, then more messages', () => {
    const h = new Harness('server');
    h.feed({ opcode: Op.Text, rsv: 4, fin: false, payload: BFINAL_HELLO.subarray(0, 3) });
    h.feed({ opcode: Op.Continuation, fin: true, payload: BFINAL_HELLO.subarray(3) });
    h.feed({ opcode: Op.Text, rsv: 4, payload: HELLO_COMPRESSED });
    assert.equal(h.failure, null);
    assert.deepEqual(
      h.messages.map((m) => m.data.toString()),
      ['Hello', 'Hello'],
    );
  });

  it('a reference back past a BFINAL message, into the messages before it, decodes exactly', () => {
    const h = new Harness('server');
    const block = Buffer.from(jsonText(2000, 9));
    h.feed({ opcode: Op.Text, rsv: 4, payload: deflateMessage(block) });
    // The peer ends its stream with "Hello" in a final block, then starts a new stream that
    // keeps its window: `block` again, as a reference 2,005 bytes back.
    h.feed({ opcode: Op.Text, rsv: 4, payload: deflateRawSync('Hello', { dictionary: block }) });
    const seen = Buffer.concat([block, Buffer.from('Hello')]);
    const again = deflateRawSync(block, { dictionary: seen, finishFlush: constants.Z_SYNC_FLUSH }).subarray(
      0,
      -4,
    );
    assert.ok(again.length < 40, `a back-reference, not the text again (${again.length} bytes)`);
    h.feed({ opcode: Op.Text, rsv: 4, payload: again });
    assert.equal(h.failure, null);
    assert.deepEqual(
      h.messages.map((m) => m.data.toString()),
      [block.toString(), 'Hello', block.toString()],
    );
  });
});
