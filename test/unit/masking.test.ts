// RFC 6455 §5.3 (client-to-server masking): unmaskInPlace against a naive reference at every
// phase, start offset, length and memory alignment, and the masking keys a client uses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  advanceMask,
  maskInto,
  maskWord,
  nextMaskingKey,
  unmaskInPlace,
  xorInPlace,
  xorInto,
} from '../../src/protocol/mask.js';
import { SIMD_BLOCK, simdKernel } from '../../src/protocol/mask-simd.js';
import { client, clientFrame, Op, prng, randomBytes, server, xorMask } from './helpers.js';

/** Naive reference: XOR data[start, end) with key starting at key position `phase`. */
function reference(data: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): Buffer {
  const out = Buffer.from(data);
  for (let i = start; i < end; i++) out[i] = data[i] ^ key[(phase + i - start) & 3];
  return out;
}

/** A view of `length` bytes whose address is `align` bytes past a multiple of 8. */
function alignedView(length: number, align: number, random: () => number): Uint8Array {
  const backing = new ArrayBuffer(length + 16);
  const view = new Uint8Array(backing, align, length);
  view.set(randomBytes(length, random));
  return view;
}

describe('RFC 6455 §5.3 unmaskInPlace', () => {
  it('matches the naive XOR for every phase, start, alignment and length up to 100', () => {
    const random = prng(1);
    const key = Uint8Array.from([0x12, 0x9a, 0xfe, 0x03]);
    for (let length = 0; length <= 100; length++) {
      for (let start = 0; start < 6; start++) {
        for (let align = 0; align < 8; align++) {
          for (let phase = 0; phase < 4; phase++) {
            const data = alignedView(start + length + 3, align, random);
            const expected = reference(data, start, start + length, key, phase);
            unmaskInPlace(data, start, start + length, key, phase);
            assert.ok(
              Buffer.from(data).equals(expected),
              `length ${length} start ${start} align ${align} phase ${phase}`,
            );
          }
        }
      }
    }
  });

  it('matches the naive XOR on large buffers, and leaves bytes outside the range alone', () => {
    const random = prng(2);
    for (const length of [1000, 4099, 65536, 100_003]) {
      for (let align = 0; align < 4; align++) {
        for (let phase = 0; phase < 4; phase++) {
          const key = randomBytes(4, random);
          const data = alignedView(length + 10, align, random);
          const expected = reference(data, 5, 5 + length, key, phase);
          unmaskInPlace(data, 5, 5 + length, key, phase);
          assert.ok(Buffer.from(data).equals(expected), `length ${length} align ${align} phase ${phase}`);
        }
      }
    }
  });

  it('works with a key that is itself an unaligned view', () => {
    const random = prng(3);
    const keyBacking = Uint8Array.from([9, 9, 9, 0xde, 0xad, 0xbe, 0xef, 9]);
    const key = keyBacking.subarray(3, 7);
    for (const length of [7, 31, 32, 33, 64, 257]) {
      const data = alignedView(length, 1, random);
      const expected = reference(data, 0, length, key, 0);
      unmaskInPlace(data, 0, length, key, 0);
      assert.ok(Buffer.from(data).equals(expected));
    }
  });

  it('unmasking piece by piece with the running phase equals unmasking in one go', () => {
    const random = prng(4);
    const key = randomBytes(4, random);
    for (let run = 0; run < 200; run++) {
      const length = Math.floor(random() * 300);
      const original = randomBytes(length, random);
      const whole = Buffer.from(original);
      unmaskInPlace(whole, 0, length, key, 0);
      const pieces = Buffer.from(original);
      let pos = 0;
      while (pos < length) {
        const take = Math.min(length - pos, 1 + Math.floor(random() * 70));
        unmaskInPlace(pieces, pos, pos + take, key, pos & 3);
        pos += take;
      }
      assert.ok(pieces.equals(whole));
      assert.ok(whole.equals(xorMask(original, key)));
    }
  });

  it('masking twice restores the data', () => {
    const random = prng(5);
    const key = randomBytes(4, random);
    const original = randomBytes(1234, random);
    const data = Buffer.from(original);
    unmaskInPlace(data, 0, data.length, key, 2);
    assert.ok(!data.equals(original));
    unmaskInPlace(data, 0, data.length, key, 2);
    assert.ok(data.equals(original));
  });

  it('maskInto copies and masks at an offset, leaving the source unchanged', () => {
    const random = prng(6);
    for (const length of [0, 3, 40, 1000]) {
      for (const offset of [0, 1, 2, 3, 14]) {
        const key = randomBytes(4, random);
        const source = randomBytes(length, random);
        const copy = Buffer.from(source);
        const target = Buffer.alloc(offset + length + 2, 0xaa);
        maskInto(target, offset, source, key);
        assert.ok(source.equals(copy));
        assert.ok(target.subarray(offset, offset + length).equals(xorMask(source, key)));
        assert.ok(target.subarray(0, offset).every((b) => b === 0xaa));
        assert.ok(target.subarray(offset + length).every((b) => b === 0xaa));
      }
    }
  });
});

/** Lengths on both sides of the word loop, the SIMD threshold, its 64-byte rounds and its 64 KiB block. */
const EDGE_LENGTHS = [
  0,
  1,
  3,
  4,
  5,
  31,
  32,
  33,
  63,
  64,
  65,
  95,
  96,
  97,
  127,
  128,
  129,
  191,
  192,
  193,
  1000,
  1023,
  1024,
  1025,
  1087,
  1088,
  1089,
  4096,
  4099,
  SIMD_BLOCK - 1,
  SIMD_BLOCK,
  SIMD_BLOCK + 1,
  SIMD_BLOCK * 2 + 17,
  150_001,
];

describe('RFC 6455 §5.3 mask words, xorInto and xorInPlace', () => {
  it('maskWord is the key from `phase` on, little-endian; advanceMask turns it by whole bytes', () => {
    const key = Uint8Array.from([0x11, 0x22, 0x33, 0x44]);
    assert.equal(maskWord(key, 0) >>> 0, 0x44332211);
    assert.equal(maskWord(key, 1) >>> 0, 0x11443322);
    assert.equal(maskWord(key, 3) >>> 0, 0x33221144);
    for (let phase = 0; phase < 4; phase++) {
      for (let count = 0; count < 9; count++) {
        assert.equal(advanceMask(maskWord(key, phase), count), maskWord(key, phase + count) | 0);
      }
    }
  });

  it('xorInto copies and unmasks at every source and target alignment, phase and edge length', () => {
    const random = prng(8);
    const key = Uint8Array.from([0x12, 0x9a, 0xfe, 0x03]);
    for (const length of EDGE_LENGTHS) {
      // Alignments cross each other, so source and target differ in their address mod 4 and mod 16.
      for (const [sourceAlign, targetAlign] of [
        [0, 0],
        [1, 2],
        [3, 0],
        [2, 7],
        [5, 5],
      ]) {
        const phase = (sourceAlign + targetAlign + length) & 3;
        const source = alignedView(length + 6, sourceAlign, random);
        const before = Buffer.from(source);
        const target = alignedView(length + 9, targetAlign, random);
        const around = Buffer.from(target);
        xorInto(target, 4, source, 3, 3 + length, maskWord(key, phase));
        const label = `length ${length} align ${sourceAlign}/${targetAlign} phase ${phase}`;
        assert.ok(Buffer.from(source).equals(before), `source changed: ${label}`);
        const expected = reference(source, 3, 3 + length, key, phase).subarray(3, 3 + length);
        assert.ok(Buffer.from(target.subarray(4, 4 + length)).equals(expected), label);
        assert.ok(Buffer.from(target.subarray(0, 4)).equals(around.subarray(0, 4)), `before: ${label}`);
        assert.ok(
          Buffer.from(target.subarray(4 + length)).equals(around.subarray(4 + length)),
          `after: ${label}`,
        );
      }
    }
  });

  it('xorInPlace unmasks at every alignment, phase and edge length, and touches nothing else', () => {
    const random = prng(9);
    for (const length of EDGE_LENGTHS) {
      for (let align = 0; align < 4; align++) {
        const phase = (length + align) & 3;
        const key = randomBytes(4, random);
        const data = alignedView(length + 10, align, random);
        const expected = reference(data, 5, 5 + length, key, phase);
        xorInPlace(data, 5, 5 + length, maskWord(key, phase));
        assert.ok(Buffer.from(data).equals(expected), `length ${length} align ${align} phase ${phase}`);
      }
    }
  });

  it('xorInPlace on a whole view (a frame read in one piece) unmasks it and nothing around it', () => {
    const random = prng(12);
    for (const length of EDGE_LENGTHS) {
      const key = randomBytes(4, random);
      const backing = randomBytes(length + 8, random);
      const around = Buffer.from(backing);
      const view = backing.subarray(3, 3 + length);
      xorInPlace(view, 0, view.length, maskWord(key, 0));
      const expected = reference(around, 3, 3 + length, key, 0);
      assert.ok(backing.equals(expected), `length ${length}`);
    }
  });

  it('mask 0 copies unchanged (an unmasked frame), in place it is a no-op', () => {
    const random = prng(10);
    for (const length of [0, 7, 100, 5000]) {
      const source = randomBytes(length, random);
      const target = Buffer.alloc(length + 2, 0xaa);
      xorInto(target, 1, source, 0, length, 0);
      assert.ok(target.subarray(1, 1 + length).equals(source));
      const copy = Buffer.from(source);
      xorInPlace(copy, 0, length, 0);
      assert.ok(copy.equals(source));
    }
  });

  it('a payload unmasked piece by piece with advancing masks equals the whole, across SIMD blocks', () => {
    const random = prng(11);
    const key = randomBytes(4, random);
    const length = SIMD_BLOCK * 2 + 1234;
    const original = randomBytes(length, random);
    const target = Buffer.alloc(length);
    let mask = maskWord(key, 0);
    let pos = 0;
    while (pos < length) {
      const take = Math.min(length - pos, 1 + Math.floor(random() * 9000));
      xorInto(target, pos, original, pos, pos + take, mask);
      mask = advanceMask(mask, take);
      pos += take;
    }
    assert.ok(target.equals(xorMask(original, key)));
  });

  it('the SIMD kernel is available here (so the tests above ran it)', () => {
    assert.notEqual(simdKernel(), null);
  });

  it('without WebAssembly (--jitless) the JavaScript path gives the same bytes at every length', () => {
    const maskUrl = new URL('../../src/protocol/mask.js', import.meta.url).href;
    const simdUrl = new URL('../../src/protocol/mask-simd.js', import.meta.url).href;
    const script = `
      const { xorInto, xorInPlace, maskWord } = await import(${JSON.stringify(maskUrl)});
      const { simdKernel } = await import(${JSON.stringify(simdUrl)});
      if (simdKernel() !== null) throw new Error('SIMD kernel present under --jitless');
      const key = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
      for (const length of ${JSON.stringify(EDGE_LENGTHS)}) {
        for (let phase = 0; phase < 4; phase++) {
          const source = Buffer.alloc(length + 3);
          for (let i = 0; i < source.length; i++) source[i] = (i * 131 + length) & 0xff;
          const expected = Buffer.alloc(length);
          for (let i = 0; i < length; i++) expected[i] = source[i + 3] ^ key[(phase + i) & 3];
          const target = Buffer.alloc(length + 1);
          xorInto(target, 1, source, 3, 3 + length, maskWord(key, phase));
          if (!target.subarray(1).equals(expected)) throw new Error('xorInto ' + length + ' ' + phase);
          xorInPlace(source, 3, 3 + length, maskWord(key, phase));
          if (!source.subarray(3).equals(expected)) throw new Error('xorInPlace ' + length + ' ' + phase);
        }
      }
      console.log('ok');
    `;
    const out = execFileSync(
      process.execPath,
      ['--jitless', '--no-warnings', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    assert.equal(out.trim(), 'ok');
  });
});

describe('RFC 6455 §5.3 masking keys', () => {
  it('nextMaskingKey returns 4 bytes', () => {
    const key = nextMaskingKey();
    assert.equal(key.length, 4);
  });

  it('nextMaskingKey gives different keys, across pool refills', () => {
    const seen = new Set<string>();
    let previous = '';
    let repeatsInARow = 0;
    const count = 10_000; // several refills of the key pool
    for (let i = 0; i < count; i++) {
      const hex = nextMaskingKey().toString('hex');
      if (hex === previous) repeatsInARow++;
      previous = hex;
      seen.add(hex);
    }
    // Collisions among 10,000 random 32-bit keys: expected ~0.01.
    assert.ok(seen.size >= count - 3, `only ${seen.size} distinct keys`);
    assert.equal(repeatsInARow, 0);
  });

  it('a client masks every frame, with a fresh key per frame', () => {
    const { conn, rec } = client();
    for (let i = 0; i < 50; i++) conn.sendBinary(Buffer.from('same payload'));
    conn.ping(Buffer.from('p'));
    conn.close(1000);
    const frames = rec.frames;
    assert.equal(frames.length, 52);
    assert.ok(frames.every((f) => f.masked && f.maskKey !== null));
    const keys = new Set(frames.map((f) => f.maskKey!.toString('hex')));
    assert.ok(keys.size >= 50, `only ${keys.size} distinct keys in 52 frames`);
    // The same payload is masked differently on the wire.
    const wirePayloads = new Set(
      rec.events.flatMap((e) => (e.type === 'write' ? [e.data.subarray(6).toString('hex')] : [])),
    );
    assert.ok(wirePayloads.size >= 50);
  });

  it('a server unmasks what a client masked, whatever the key', () => {
    const random = prng(7);
    for (let run = 0; run < 100; run++) {
      const payload = randomBytes(Math.floor(random() * 200), random);
      const { conn, rec } = server();
      conn.receive(clientFrame(Op.Binary, payload, { mask: randomBytes(4, random) }));
      assert.ok(rec.messages[0].data.equals(payload));
    }
  });
});
