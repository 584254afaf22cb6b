import { randomFillSync } from 'node:crypto';
import { endianness } from 'node:os';
import { SIMD_BLOCK, simdKernel } from './mask-simd.js';

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
/** Below this length a byte loop is cheaper than setting up a word view (~0.1 µs to create). */
const WORD_THRESHOLD = 96;
/**
 * From this length on, the SIMD kernel's fixed cost (two memcpys and a wasm call: ~40 ns) is
 * repaid; measured on x64 against the unrolled word loop (128 B: 46 against 72 ns).
 */
const SIMD_THRESHOLD = 128;

/**
 * A masking key as one number: the key's bytes from position `phase` (0-3) on, little-endian,
 * so byte j of a payload piece is XORed with byte `j & 3` of the number. 0 leaves bytes as
 * they are: the parser hands unmasked frames on with mask 0.
 */
export function maskWord(key: Uint8Array, phase: number): number {
  return (
    key[phase & 3] | (key[(phase + 1) & 3] << 8) | (key[(phase + 2) & 3] << 16) | (key[(phase + 3) & 3] << 24)
  );
}

/** The mask for the byte `count` positions after the one `word` starts at. */
export function advanceMask(word: number, count: number): number {
  const shift = (count & 3) << 3;
  return shift === 0 ? word : (word >>> shift) | (word << (32 - shift));
}

/**
 * 64 KiB for a binding to read the network into, where frames are unmasked as they lie
 * (`xorReadInPlace`): the SIMD kernel's own memory. Null where there is no kernel.
 */
export function kernelReadMemory(): Buffer | null {
  return simdKernel()?.readMemory ?? null;
}

/** Whether `chunk` is a view of `kernelReadMemory()` (one look at `.buffer`, a call into V8: once per read). */
export function inKernelReadMemory(chunk: Uint8Array): boolean {
  const kernel = simdKernel();
  return kernel !== null && chunk.buffer === kernel.memory;
}

/**
 * XORs `data`, a view of `kernelReadMemory()`, in place with the mask `word`: the SIMD
 * kernel works on it where it lies, with no copy in or out.
 */
export function xorReadInPlace(data: Uint8Array, word: number): void {
  if (word === 0) return;
  const length = data.length;
  let done = 0;
  if (length >= SIMD_THRESHOLD) {
    done = length & ~63;
    simdKernel()!.xorMemory(data.byteOffset, data.byteOffset + done, word);
  }
  // Whole 64-byte rounds leave the mask's phase where it was.
  if (done < length) xorWords(data, done, length, word);
}

/** XORs `data[start, end)` in place with the mask `word`. */
export function xorInPlace(data: Uint8Array, start: number, end: number, word: number): void {
  if (word === 0) return;
  if (end - start < SIMD_THRESHOLD || simdKernel() === null) xorWords(data, start, end, word);
  else xorInto(data, start, data, start, end, word);
}

/**
 * Copies `source[start, end)` to `target` at `offset`, XORed with the mask `word`: one copy
 * whether or not the bytes are masked (with the SIMD kernel the XOR rides on the copy).
 */
export function xorInto(
  target: Uint8Array,
  offset: number,
  source: Uint8Array,
  start: number,
  end: number,
  word: number,
): void {
  const kernel = word !== 0 && end - start >= SIMD_THRESHOLD ? simdKernel() : null;
  if (kernel === null) {
    target.set(start === 0 && end === source.length ? source : source.subarray(start, end), offset);
    if (word !== 0) xorWords(target, offset, offset + end - start, word);
    return;
  }
  for (let at = start; at < end; at += SIMD_BLOCK) {
    // Blocks are a multiple of 4 bytes long, so every block starts with the same mask.
    const stop = Math.min(end, at + SIMD_BLOCK);
    kernel.xorInto(target, offset + at - start, source, at, stop, word);
  }
}

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
  xorInPlace(data, start, end, maskWord(key, phase));
}

/** Writes `source` masked with `key` into `target` at `offset` (one pass: copy and mask). */
export function maskInto(target: Uint8Array, offset: number, source: Uint8Array, key: Uint8Array): void {
  xorInto(target, offset, source, 0, source.length, maskWord(key, 0));
}

/** The JavaScript XOR: bytes up to a 4-byte aligned address, then words, 8 per loop step, then the tail. */
function xorWords(data: Uint8Array, start: number, end: number, word: number): void {
  let i = start;
  if (end - start >= WORD_THRESHOLD) {
    while (((data.byteOffset + i) & 3) !== 0) {
      data[i++] ^= word;
      word = (word >>> 8) | (word << 24);
    }
    const words = (end - i) >>> 2;
    // An Int32Array reads in host byte order; the mask is little-endian.
    const key = littleEndian ? word : swapBytes(word);
    const view = new Int32Array(data.buffer, data.byteOffset + i, words);
    let w = 0;
    // Unrolled: V8 keeps the loop's bounds checks and branch per element otherwise.
    for (const stop = words - 7; w < stop; w += 8) {
      view[w] ^= key;
      view[w + 1] ^= key;
      view[w + 2] ^= key;
      view[w + 3] ^= key;
      view[w + 4] ^= key;
      view[w + 5] ^= key;
      view[w + 6] ^= key;
      view[w + 7] ^= key;
    }
    for (; w < words; w++) view[w] ^= key;
    i += words << 2;
  }
  // Four bytes per step with the key's bytes in place: no rotation per byte (1.6× the speed
  // of a rotating byte loop for a 32-byte payload).
  for (const stop = end - 3; i < stop; i += 4) {
    data[i] ^= word;
    data[i + 1] ^= word >>> 8;
    data[i + 2] ^= word >>> 16;
    data[i + 3] ^= word >>> 24;
  }
  for (; i < end; i++) {
    data[i] ^= word;
    word = (word >>> 8) | (word << 24);
  }
}

function swapBytes(word: number): number {
  return ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24);
}
