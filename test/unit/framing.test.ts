// RFC 6455 §5.2 (base framing protocol) and §5.1 (masking rules per role): the serializer's
// bytes, and the parser driven through Connection on every length boundary and every split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeFrame,
  encodeHeader,
  encodeTextFrame,
  headerLength,
  writeHeader,
} from '../../src/protocol/serializer.js';
import {
  assertFailed,
  client,
  clientFrame,
  closePayload,
  decodeFrames,
  feed,
  feedBytewise,
  frame,
  KEY,
  Op,
  prng,
  RSV1,
  RSV2,
  RSV3,
  randomBytes,
  randomCuts,
  server,
  serverFrame,
  xorMask,
} from './helpers.js';

const BOUNDARY_LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 70000];

function payloadOf(length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

describe('RFC 6455 §5.2 serializer', () => {
  const expectedHeaders: Array<[number, number[]]> = [
    [0, [0x82, 0x00]],
    [125, [0x82, 0x7d]],
    [126, [0x82, 0x7e, 0x00, 0x7e]],
    [65535, [0x82, 0x7e, 0xff, 0xff]],
    [65536, [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]],
  ];

  for (const [length, header] of expectedHeaders) {
    it(`encodes an unmasked ${length}-byte frame with the minimal length form`, () => {
      const payload = payloadOf(length);
      const out = encodeFrame(Op.Binary, true, false, payload, null);
      assert.equal(out.length, header.length + length);
      assert.deepEqual([...out.subarray(0, header.length)], header);
      assert.ok(out.subarray(header.length).equals(payload));
      assert.equal(headerLength(length, false), header.length);
      assert.ok(encodeHeader(Op.Binary, true, false, length).equals(Buffer.from(header)));
    });

    it(`encodes a masked ${length}-byte frame: mask bit, key, masked payload`, () => {
      const payload = payloadOf(length);
      const out = encodeFrame(Op.Binary, true, false, payload, KEY);
      const maskedHeader = [...header];
      maskedHeader[1] |= 0x80;
      const headLength = header.length + 4;
      assert.equal(out.length, headLength + length);
      assert.equal(headerLength(length, true), headLength);
      assert.deepEqual([...out.subarray(0, header.length)], maskedHeader);
      assert.deepEqual([...out.subarray(header.length, headLength)], [...KEY]);
      assert.ok(out.subarray(headLength).equals(xorMask(payload, KEY)));
      assert.ok(payload.equals(payloadOf(length)), 'the source payload is left unmasked');
    });
  }

  it('sets FIN, RSV1 and the opcode in the first byte', () => {
    assert.equal(encodeFrame(Op.Text, true, false, Buffer.alloc(0), null)[0], 0x81);
    assert.equal(encodeFrame(Op.Text, false, false, Buffer.alloc(0), null)[0], 0x01);
    assert.equal(encodeFrame(Op.Continuation, true, false, Buffer.alloc(0), null)[0], 0x80);
    assert.equal(encodeFrame(Op.Binary, true, true, Buffer.alloc(0), null)[0], 0xc2);
    assert.equal(encodeFrame(Op.Close, true, false, Buffer.alloc(0), null)[0], 0x88);
    assert.equal(encodeFrame(Op.Ping, true, false, Buffer.alloc(0), null)[0], 0x89);
    assert.equal(encodeFrame(Op.Pong, true, false, Buffer.alloc(0), null)[0], 0x8a);
  });

  it('writes 64-bit lengths above 2^32 in network byte order', () => {
    const target = Buffer.alloc(10);
    assert.equal(writeHeader(target, Op.Binary, true, false, 2 ** 32 + 5, null), 10);
    assert.deepEqual([...target], [0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 5]);
    assert.equal(writeHeader(target, Op.Binary, true, false, Number.MAX_SAFE_INTEGER, null), 10);
    assert.deepEqual([...target], [0x82, 0x7f, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  it('encodes text as UTF-8, masked or not, at every length form', () => {
    for (const text of ['', 'héllo €𝄞', 'x'.repeat(125), '€'.repeat(42), 'é'.repeat(40000)]) {
      const utf8 = Buffer.from(text, 'utf8');
      const plain = encodeTextFrame(Op.Text, true, false, text, null);
      assert.ok(plain.equals(encodeFrame(Op.Text, true, false, utf8, null)));
      const masked = encodeTextFrame(Op.Text, true, false, text, KEY);
      assert.ok(masked.equals(encodeFrame(Op.Text, true, false, utf8, KEY)));
      const [decoded] = decodeFrames(masked);
      assert.ok(decoded.payload.equals(utf8));
    }
  });

  for (const length of [0, 125, 126, 65535, 65536]) {
    it(`Connection writes ${length}-byte messages unmasked as a server and masked as a client`, () => {
      const payload = payloadOf(length);
      const s = server();
      assert.equal(s.conn.sendBinary(payload), true);
      const [sf] = s.rec.frames;
      assert.deepEqual([sf.fin, sf.rsv, sf.opcode, sf.masked], [true, 0, Op.Binary, false]);
      assert.ok(sf.payload.equals(payload));

      const c = client();
      assert.equal(c.conn.sendBinary(payload), true);
      const [cf] = c.rec.frames;
      assert.deepEqual([cf.fin, cf.rsv, cf.opcode, cf.masked], [true, 0, Op.Binary, true]);
      assert.ok(cf.payload.equals(payload));
      assert.ok(payload.equals(payloadOf(length)), 'sending does not mask the caller’s buffer');
    });
  }

  it('a server writes payloads over copyThreshold after a separate header, without copying', () => {
    const { conn, rec } = server({ copyThreshold: 100 });
    const payload = payloadOf(101);
    conn.sendBinary(payload);
    const writes = rec.events.filter((e) => e.type === 'write');
    assert.equal(writes.length, 2);
    assert.deepEqual(rec.frames.length, 1);
    assert.ok(rec.frames[0].payload.equals(payload));
    conn.sendBinary(payloadOf(100));
    assert.equal(rec.events.filter((e) => e.type === 'write').length, 3, 'at the threshold: one buffer');
  });

  it('sends text messages as opcode 1 with UTF-8 payload', () => {
    const { conn, rec } = server();
    conn.sendText('día €');
    conn.sendText(Buffer.from('raw'));
    const frames = rec.frames;
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [
        [Op.Text, true, 'día €'],
        [Op.Text, true, 'raw'],
      ],
    );
  });
});

describe('RFC 6455 §5.2 parser: lengths', () => {
  for (const length of BOUNDARY_LENGTHS) {
    it(`a server reads a masked ${length}-byte frame (whole, byte by byte, random splits)`, () => {
      const payload = payloadOf(length);
      const wire = clientFrame(Op.Binary, payload);
      const runs: Array<(c: ReturnType<typeof server>['conn']) => void> = [
        (c) => feed(c, wire),
        (c) => feed(c, wire, randomCuts(wire.length, prng(length), 700)),
        (c) =>
          feed(
            c,
            wire,
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].filter((n) => n < wire.length),
          ),
      ];
      if (length <= 65536) runs.push((c) => feedBytewise(c, wire));
      for (const run of runs) {
        const { conn, rec } = server();
        run(conn);
        assert.equal(rec.failures.length, 0);
        assert.equal(rec.messages.length, 1);
        assert.ok(rec.messages[0].data.equals(payload));
        assert.equal(rec.messages[0].isBinary, true);
        assert.equal(rec.written.length, 0);
      }
    });

    it(`a client reads an unmasked ${length}-byte frame (whole and in random splits)`, () => {
      const payload = payloadOf(length);
      const wire = serverFrame(Op.Binary, payload);
      for (const cuts of [[], randomCuts(wire.length, prng(length + 1), 500)]) {
        const { conn, rec } = client();
        feed(conn, wire, cuts);
        assert.equal(rec.failures.length, 0);
        assert.equal(rec.messages.length, 1);
        assert.ok(rec.messages[0].data.equals(payload));
      }
    });
  }

  it('emits nothing until a frame is complete, then exactly one message', () => {
    const wire = clientFrame(Op.Text, 'hello');
    const { conn, rec } = server();
    for (let i = 0; i < wire.length - 1; i++) {
      conn.receive(Buffer.from(wire.subarray(i, i + 1)));
      assert.equal(rec.events.length, 0, `event after byte ${i}`);
    }
    conn.receive(Buffer.from(wire.subarray(wire.length - 1)));
    assert.equal(rec.messages.length, 1);
    assert.equal(rec.messages[0].data.toString(), 'hello');
    assert.equal(rec.messages[0].isBinary, false);
  });

  it('accepts non-minimal length encodings (the minimal-form rule binds the sender)', () => {
    const cases = [
      clientFrame(Op.Binary, 'abc', { lengthForm: 16 }),
      clientFrame(Op.Binary, 'abc', { lengthForm: 64 }),
      clientFrame(Op.Binary, payloadOf(200), { lengthForm: 64 }),
      clientFrame(Op.Binary, '', { lengthForm: 64 }),
    ];
    for (const wire of cases) {
      const { conn, rec } = server();
      feed(conn, wire);
      assert.equal(rec.failures.length, 0);
      assert.equal(rec.messages.length, 1);
    }
  });

  it('fails with LengthOverflowError / 1002 when the 64-bit length has its high bit set', () => {
    for (const declared of [2n ** 63n, 2n ** 64n - 1n, 2n ** 63n + 5n]) {
      for (const role of ['server', 'client'] as const) {
        const { conn, rec } = role === 'server' ? server() : client();
        const wire = frame({
          opcode: Op.Binary,
          declaredLength: declared,
          mask: role === 'server' ? KEY : null,
        });
        feed(conn, wire);
        assertFailed(rec, 1002, 'WSX_LENGTH_OVERFLOW');
        assert.equal(rec.failures[0].name, 'LengthOverflowError');
      }
    }
  });

  it('fails at the header (1009) when a 64-bit length is below 2^63 but over the limits', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Binary, '', { declaredLength: 2n ** 63n - 1n }));
    assertFailed(rec, 1009);
  });
});

describe('RFC 6455 §5.2 parser: reserved bits and opcodes', () => {
  for (const rsv of [RSV1, RSV2, RSV3, RSV1 | RSV2, RSV2 | RSV3, 7]) {
    for (const opcode of [Op.Text, Op.Binary, Op.Ping, Op.Close]) {
      it(`fails with 1002 on RSV bits ${rsv.toString(2).padStart(3, '0')} with opcode ${opcode}`, () => {
        const { conn, rec } = server();
        feed(conn, clientFrame(opcode, 'x', { rsv }));
        assertFailed(rec, 1002, 'WSX_RESERVED_BITS');
        assert.equal(rec.messages.length, 0);
      });
    }
  }

  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`fails with 1002 on reserved opcode 0x${opcode.toString(16)}`, () => {
      for (const fin of [true, false]) {
        const { conn, rec } = server();
        feed(conn, clientFrame(opcode, 'payload', { fin }));
        assertFailed(rec, 1002, 'WSX_RESERVED_OPCODE');
      }
      const c = client();
      feed(c.conn, serverFrame(opcode, ''));
      assertFailed(c.rec, 1002, 'WSX_RESERVED_OPCODE');
    });
  }

  it('fails on a reserved opcode as soon as the 2-byte header arrives, before the payload', () => {
    const { conn, rec } = client();
    feed(conn, serverFrame(0x3, 'x'.repeat(100)).subarray(0, 2));
    assertFailed(rec, 1002, 'WSX_RESERVED_OPCODE');
  });
});

describe('RFC 6455 §5.1 masking rules per role', () => {
  for (const opcode of [Op.Text, Op.Binary, Op.Ping, Op.Pong, Op.Close]) {
    it(`a server fails with 1002 on an unmasked client frame (opcode ${opcode})`, () => {
      const { conn, rec } = server();
      feed(conn, clientFrame(opcode, '', { mask: null }));
      assertFailed(rec, 1002, 'WSX_UNMASKED_CLIENT_FRAME');
      assert.equal(rec.frames[0].masked, false, 'a server never masks');
    });

    it(`a client fails with 1002 on a masked server frame (opcode ${opcode})`, () => {
      const { conn, rec } = client();
      feed(conn, serverFrame(opcode, '', { mask: KEY }));
      assertFailed(rec, 1002, 'WSX_MASKED_SERVER_FRAME');
      assert.equal(rec.frames[0].masked, true, 'a client always masks');
    });
  }

  it('a masked frame with an all-zero key is still masked', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Text, 'zero key', { mask: new Uint8Array(4) }));
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.toString(), 'zero key');
  });

  it('fails on the mask bit with the header alone, before key or payload', () => {
    const { conn, rec } = server();
    feed(conn, Buffer.from([0x82, 0x05]));
    assertFailed(rec, 1002, 'WSX_UNMASKED_CLIENT_FRAME');
  });
});

describe('RFC 6455 §5.2 parser: any split of the stream gives the same events', () => {
  const streamParts = [
    clientFrame(Op.Text, 'Hello, wörld €𝄞'),
    clientFrame(Op.Binary, ''),
    clientFrame(Op.Binary, payloadOf(126), { mask: Uint8Array.from([1, 2, 3, 4]) }),
    clientFrame(Op.Ping, 'are you there?'),
    clientFrame(Op.Text, 'frag', { fin: false }),
    clientFrame(Op.Pong, ''),
    clientFrame(Op.Continuation, 'men', { fin: false }),
    clientFrame(Op.Ping, ''),
    clientFrame(Op.Continuation, ''),
    clientFrame(Op.Binary, payloadOf(65536)),
    clientFrame(Op.Text, '', { fin: false }),
    clientFrame(Op.Continuation, Buffer.from('€').subarray(0, 1), { fin: false }),
    clientFrame(Op.Continuation, Buffer.from('€').subarray(1), { fin: true }),
    clientFrame(Op.Binary, payloadOf(300), { lengthForm: 64 }),
    clientFrame(Op.Close, closePayload(1000, 'done')),
    clientFrame(Op.Text, 'after close: ignored'),
  ];
  const stream = Buffer.concat(streamParts);

  function reference(): unknown[] {
    const { conn, rec } = server();
    feed(conn, stream);
    return rec.summary();
  }

  it('the reference run sees every frame', () => {
    const summary = reference();
    const types = summary.map((e) => (e as unknown[])[0]);
    assert.deepEqual(types, [
      'message',
      'message',
      'message',
      'frame',
      'ping',
      'pong',
      'frame',
      'ping',
      'message',
      'message',
      'message',
      'message',
      'close',
      'frame',
      'endTransport',
    ]);
  });

  it('feeding one byte at a time gives the same events', () => {
    const expected = reference();
    const { conn, rec } = server();
    feedBytewise(conn, stream);
    assert.deepEqual(rec.summary(), expected);
  });

  it('feeding in 100 random splits gives the same events', () => {
    const expected = reference();
    const random = prng(0x5eed);
    for (let run = 0; run < 100; run++) {
      const { conn, rec } = server();
      const mean = [2, 5, 16, 100, 4000][run % 5];
      feed(conn, stream, randomCuts(stream.length, random, mean));
      assert.deepEqual(rec.summary(), expected, `run ${run}`);
    }
  });

  it('a client reading server frames gives the same events in any split', () => {
    const parts = [
      serverFrame(Op.Text, 'one'),
      serverFrame(Op.Ping, 'p'),
      serverFrame(Op.Binary, payloadOf(1000), { fin: false }),
      serverFrame(Op.Continuation, payloadOf(70000)),
      serverFrame(Op.Close, closePayload(1001)),
    ];
    const wire = Buffer.concat(parts);
    const whole = client();
    feed(whole.conn, wire);
    const expected = whole.rec.summary().map((e) => ((e as unknown[])[0] === 'frame' ? 'frame' : e));
    assert.equal(whole.rec.failures.length, 0);
    assert.equal(whole.rec.messages.length, 2);
    const random = prng(7);
    for (let run = 0; run < 30; run++) {
      const { conn, rec } = client();
      feed(conn, wire, randomCuts(wire.length, random, [3, 50, 3000][run % 3]));
      assert.deepEqual(
        rec.summary().map((e) => ((e as unknown[])[0] === 'frame' ? 'frame' : e)),
        expected,
      );
    }
  });

  it('a violation is reported at the same point in any split, and nothing follows it', () => {
    const wire = Buffer.concat([
      clientFrame(Op.Text, 'ok'),
      clientFrame(Op.Binary, 'x'.repeat(130)),
      clientFrame(Op.Binary, 'bad', { rsv: RSV2 }),
      clientFrame(Op.Text, 'never seen'),
      clientFrame(Op.Ping, 'never answered'),
    ]);
    const whole = server();
    feed(whole.conn, wire);
    assertFailed(whole.rec, 1002, 'WSX_RESERVED_BITS');
    assert.equal(whole.rec.messages.length, 2);
    const expected = whole.rec.summary();
    const bytewise = server();
    feedBytewise(bytewise.conn, wire);
    assert.deepEqual(bytewise.rec.summary(), expected);
    const random = prng(99);
    for (let run = 0; run < 50; run++) {
      const { conn, rec } = server();
      feed(conn, wire, randomCuts(wire.length, random, 6));
      assert.deepEqual(rec.summary(), expected);
    }
  });

  it('every two-way split within the header and first payload bytes gives the same message', () => {
    const frames: Array<[Buffer, Buffer]> = [
      [clientFrame(Op.Binary, payloadOf(5)), payloadOf(5)],
      [clientFrame(Op.Binary, payloadOf(300)), payloadOf(300)],
      [clientFrame(Op.Binary, payloadOf(10), { lengthForm: 64 }), payloadOf(10)],
      [clientFrame(Op.Binary, payloadOf(70000)), payloadOf(70000)],
    ];
    for (const [wire, payload] of frames) {
      for (let cut = 1; cut < Math.min(wire.length, 30); cut++) {
        const { conn, rec } = server();
        feed(conn, wire, [cut]);
        assert.equal(rec.messages.length, 1, `cut at ${cut}`);
        assert.ok(rec.messages[0].data.equals(payload));
      }
    }
  });

  it('random binary payloads survive random splits (fuzz)', () => {
    const random = prng(2024);
    for (let run = 0; run < 100; run++) {
      const lengths = Array.from(
        { length: 1 + Math.floor(random() * 6) },
        () => [0, 1, 3, 125, 126, 200, 65535, 65536][Math.floor(random() * 8)],
      );
      const payloads = lengths.map((n) => randomBytes(n, random));
      const wire = Buffer.concat(
        payloads.map((p) => clientFrame(Op.Binary, p, { mask: randomBytes(4, random) })),
      );
      const { conn, rec } = server();
      feed(conn, wire, randomCuts(wire.length, random, 1 + Math.floor(random() * 300)));
      assert.equal(rec.failures.length, 0);
      assert.deepEqual(
        rec.messages.map((m) => m.data.toString('hex')),
        payloads.map((p) => p.toString('hex')),
      );
    }
  });
});

describe('RFC 6455 §5.2 RSV1 with a negotiated extension', () => {
  /** An extension whose "compression" is the identity, recording what it is given. */
  function identityExtension() {
    const calls: Array<[string, boolean]> = [];
    return {
      calls,
      decode(piece: Buffer, end: boolean, output: { appendDecoded(decoded: Buffer): void }): void {
        calls.push([piece.toString(), end]);
        if (piece.length > 0) output.appendDecoded(Buffer.from(piece));
      },
      encoding: () => 'plain' as const,
      encode: (payload: Uint8Array) => Buffer.from(payload),
      store: (payload: Uint8Array) => [payload],
      sharedCompression: null,
      hibernate: () => false,
      release() {},
    };
  }

  it('RSV1 on the first frame of a message routes it through the extension', () => {
    const { conn, rec } = server();
    const extension = identityExtension();
    conn.useExtension(extension);
    feed(
      conn,
      Buffer.concat([
        clientFrame(Op.Text, 'com', { rsv: RSV1, fin: false }),
        clientFrame(Op.Continuation, 'pressed'),
        clientFrame(Op.Text, 'plain'),
      ]),
    );
    assert.equal(rec.failures.length, 0);
    assert.deepEqual(
      rec.messages.map((m) => m.data.toString()),
      ['compressed', 'plain'],
    );
    assert.deepEqual(extension.calls, [
      ['com', false],
      ['pressed', true],
    ]);
  });

  it('RSV1 stays forbidden on continuation and control frames', () => {
    for (const wire of [
      Buffer.concat([
        clientFrame(Op.Text, 'a', { fin: false }),
        clientFrame(Op.Continuation, 'b', { rsv: RSV1 }),
      ]),
      clientFrame(Op.Ping, '', { rsv: RSV1 }),
      clientFrame(Op.Close, '', { rsv: RSV1 }),
      clientFrame(Op.Text, 'a', { rsv: RSV2 }),
    ]) {
      const { conn, rec } = server();
      conn.useExtension(identityExtension());
      feed(conn, wire);
      assertFailed(rec, 1002, 'WSX_RESERVED_BITS');
    }
  });

  it('decoded text is validated as UTF-8 and decoded size is held to maxMessageSize', () => {
    const bad = server();
    bad.conn.useExtension(identityExtension());
    feed(bad.conn, clientFrame(Op.Text, Buffer.from([0x61, 0xff]), { rsv: RSV1 }));
    assertFailed(bad.rec, 1007, 'WSX_INVALID_UTF8');

    const big = server({ maxMessageSize: 10 });
    big.conn.useExtension(identityExtension());
    feed(big.conn, clientFrame(Op.Binary, Buffer.alloc(6), { rsv: RSV1, fin: false }));
    feed(big.conn, clientFrame(Op.Continuation, Buffer.alloc(6)));
    assertFailed(big.rec, 1009, 'WSX_MESSAGE_TOO_BIG');
  });
});

describe('receive() edge cases', () => {
  it('an empty chunk does nothing, between frames and inside one', () => {
    const { conn, rec } = server();
    const wire = clientFrame(Op.Text, 'abc');
    conn.receive(Buffer.alloc(0));
    conn.receive(Buffer.from(wire.subarray(0, 1)));
    conn.receive(Buffer.alloc(0));
    conn.receive(Buffer.from(wire.subarray(1, 7)));
    conn.receive(Buffer.alloc(0));
    conn.receive(Buffer.from(wire.subarray(7)));
    conn.receive(Buffer.alloc(0));
    assert.deepEqual(rec.summary(), [['message', false, Buffer.from('abc').toString('hex')]]);
  });
});
