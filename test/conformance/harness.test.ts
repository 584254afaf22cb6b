// Self-tests of the conformance harness: frame encoding against the examples of RFC 6455
// section 5.7, the frame parser under arbitrary chunking, and the incremental UTF-8 checker
// against Node's own validator.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import { binaryBytes } from './data.js';
import { encodeFrame, FrameParser, Op } from './frames.js';
import { acceptKey, splitBuffer } from './peer.js';
import { checkUtf8, hexBytes } from './utf8.js';

describe('harness: frames', () => {
  const examples: [string, Buffer, string][] = [
    ['unmasked "Hello"', encodeFrame({ opcode: Op.Text, payload: 'Hello' }, false), '81 05 48 65 6c 6c 6f'],
    [
      'masked "Hello"',
      encodeFrame({ opcode: Op.Text, payload: 'Hello', mask: hexBytes('37 fa 21 3d') }, true),
      '81 85 37 fa 21 3d 7f 9f 4d 51 58',
    ],
    [
      'first fragment "Hel"',
      encodeFrame({ opcode: Op.Text, payload: 'Hel', fin: false }, false),
      '01 03 48 65 6c',
    ],
    ['last fragment "lo"', encodeFrame({ opcode: Op.Continuation, payload: 'lo' }, false), '80 02 6c 6f'],
    [
      'unmasked ping "Hello"',
      encodeFrame({ opcode: Op.Ping, payload: 'Hello' }, false),
      '89 05 48 65 6c 6c 6f',
    ],
  ];
  for (const [name, got, want] of examples)
    it(`RFC 6455 5.7 example: ${name}`, () =>
      assert.equal(got.toString('hex'), hexBytes(want).toString('hex')));

  it('RFC 6455 5.7 example: 256-byte and 65536-byte binary headers', () => {
    assert.equal(
      encodeFrame({ opcode: Op.Binary, payload: Buffer.alloc(256) }, false)
        .subarray(0, 4)
        .toString('hex'),
      '827e0100',
    );
    assert.equal(
      encodeFrame({ opcode: Op.Binary, payload: Buffer.alloc(65536) }, false)
        .subarray(0, 10)
        .toString('hex'),
      '827f0000000000010000',
    );
  });

  it('RFC 6455 1.3 example accept key', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('forced length forms, reserved bits and the 64-bit high bit are encoded as asked', () => {
    assert.equal(
      encodeFrame({ opcode: Op.Text, payload: 'a', lengthForm: 16 }, false).toString('hex'),
      '817e000161',
    );
    assert.equal(encodeFrame({ opcode: 3, rsv: 7, payload: '' }, false).toString('hex'), 'f300');
    const high = encodeFrame({ opcode: Op.Binary, lengthForm: 64, declaredLength: 1n << 63n }, false);
    assert.equal(high.toString('hex'), '827f8000000000000000');
  });

  it('the parser reassembles frames from any chunking, unmasking masked ones', () => {
    const specs = [
      { opcode: Op.Text, payload: 'Hello' },
      { opcode: Op.Binary, payload: binaryBytes(300, 1) },
      { opcode: Op.Ping, payload: '' },
      { opcode: Op.Binary, payload: binaryBytes(70000, 2), fin: false },
      { opcode: Op.Close, payload: hexBytes('03 e8') },
    ];
    for (const masked of [false, true]) {
      const wire = Buffer.concat(specs.map((s) => encodeFrame(s, masked)));
      for (const size of [1, 2, 3, 7, 13, 1000, wire.length]) {
        const parser = new FrameParser();
        const frames = splitBuffer(wire, { chunkSize: size }).flatMap((c) => parser.push(c));
        assert.equal(frames.length, specs.length, `chunk size ${size}`);
        frames.forEach((f, i) => {
          assert.equal(f.opcode, specs[i].opcode);
          assert.equal(f.masked, masked);
          assert.equal(f.fin, specs[i].fin ?? true);
          assert.ok(f.payload.equals(Buffer.from(specs[i].payload)), `payload of frame ${i}`);
        });
        assert.equal(parser.pendingBytes(), 0);
      }
    }
  });

  it('splitBuffer cuts at the given offsets', () => {
    const parts = splitBuffer(Buffer.from('abcdef'), { cuts: [4, 1, 1, 9] });
    assert.deepEqual(
      parts.map((p) => p.toString()),
      ['a', 'bcd', 'ef'],
    );
  });
});

describe('harness: UTF-8 checker', () => {
  it('agrees with node:buffer isUtf8 on 20000 random short sequences', () => {
    const alphabet = [
      0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee,
      0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff,
    ];
    let seed = 42;
    for (let n = 0; n < 20000; n++) {
      const len = n % 9;
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[i] = alphabet[(seed >>> 16) % alphabet.length];
      }
      assert.equal(checkUtf8(bytes).valid, isUtf8(bytes), bytes.toString('hex'));
    }
  });

  it('reports the byte at which a fail-fast decoder must give up', () => {
    assert.deepEqual(checkUtf8(hexBytes('41 ed a0 80')), { valid: false, failAt: 3, truncated: false });
    assert.deepEqual(checkUtf8(hexBytes('41 c0')), { valid: false, failAt: 2, truncated: false });
    assert.deepEqual(checkUtf8(hexBytes('41 f4 90')), { valid: false, failAt: 3, truncated: false });
    assert.deepEqual(checkUtf8(hexBytes('41 f0 9f 98')), { valid: false, failAt: 4, truncated: true });
    assert.deepEqual(checkUtf8(hexBytes('f4 8f bf bf')), { valid: true, failAt: -1, truncated: false });
  });

  it('every prefix shorter than failAt is a prefix of valid UTF-8', () => {
    for (const hex of ['ce ba e1 bd b9 ed a0 80 65', 'f0 9f 98 80 f4 90 80 80', 'e2 82 ac c0 af']) {
      const b = hexBytes(hex);
      const { failAt } = checkUtf8(b);
      for (let k = 0; k < failAt; k++) {
        const v = checkUtf8(b.subarray(0, k));
        assert.ok(v.valid || v.truncated, `${hex} prefix ${k}`);
      }
    }
  });
});
