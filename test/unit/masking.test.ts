// RFC 6455 §5.3 (client-to-server masking): unmaskInPlace against a naive reference at every
// phase, start offset, length and memory alignment, and the masking keys a client uses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskInto, nextMaskingKey, unmaskInPlace } from '../../src/protocol/mask.js';
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
