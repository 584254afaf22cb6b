import { randomFillSync } from 'node:crypto';
import { endianness } from 'node:os';

/**
 * Masking keys (RFC 6455 §5.3) come from the system CSPRNG, drawn in batches so that a
 * client does not pay for one `randomFillSync` call per frame.
 */
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Returns 4 fresh random bytes: a view into the pool, valid until the next call. */
export function nextMaskingKey(): Buffer {
  if (poolOffset === POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const key = pool.subarray(poolOffset, poolOffset + 4);
  poolOffset += 4;
  return key;
}

const littleEndian = endianness() === 'LE';
/** Below this length a byte loop is cheaper than setting up a word view. */
const WORD_THRESHOLD = 32;

/**
 * XORs `data[start, end)` in place with `key`, starting at position `phase` (0-3) of the
 * key — the phase lets a payload that arrives in pieces be unmasked piece by piece.
 */
export function unmaskInPlace(
  data: Uint8Array,
  start: number,
  end: number,
  key: Uint8Array,
  phase: number,
): void {
  let i = start;
  if (littleEndian && end - start >= WORD_THRESHOLD) {
    // Advance byte by byte to a 4-byte aligned address, then XOR whole words.
    while (((data.byteOffset + i) & 3) !== 0) {
      data[i++] ^= key[phase];
      phase = (phase + 1) & 3;
    }
    const words = (end - i) >>> 2;
    const wordKey =
      key[phase] |
      (key[(phase + 1) & 3] << 8) |
      (key[(phase + 2) & 3] << 16) |
      (key[(phase + 3) & 3] << 24) |
      0;
    const view = new Int32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= wordKey;
    i += words << 2;
  }
  for (; i < end; i++) {
    data[i] ^= key[phase];
    phase = (phase + 1) & 3;
  }
}

/** Writes `source` masked with `key` into `target` at `offset` (one pass: copy and mask). */
export function maskInto(target: Uint8Array, offset: number, source: Uint8Array, key: Uint8Array): void {
  target.set(source, offset);
  unmaskInPlace(target, offset, offset + source.length, key, 0);
}
