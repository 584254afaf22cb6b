// Deterministic payloads and frame-sequence builders for the conformance cases.
import { type FrameSpec, Op, type Payload, toBuffer } from './frames.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-';

const UNIT = ALPHABET.repeat(64);

/** ASCII text of exactly `n` bytes. */
export function asciiText(n: number): string {
  return UNIT.repeat(Math.ceil(n / UNIT.length)).slice(0, n);
}

/** Text with 1- to 4-byte UTF-8 characters, of exactly `n` bytes. */
export function mixedText(n: number): Buffer {
  const pieces = ['a', 'ß', '€', '𝄞', 'z', 'й', '中', '😀'].map((c) => Buffer.from(c, 'utf8'));
  const out = Buffer.alloc(n);
  let off = 0;
  let i = 0;
  while (off < n) {
    const p = pieces[i++ % pieces.length];
    if (off + p.length > n) {
      out.fill(0x41, off);
      break;
    }
    p.copy(out, off);
    off += p.length;
  }
  return out;
}

/** Binary bytes of exactly `n` bytes (covering all byte values, including invalid UTF-8). */
export function binaryBytes(n: number, seed = 0): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Splits `buf` into pieces of `size` bytes (the last may be shorter); at least one piece. */
export function pieces(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out.length ? out : [buf];
}

/**
 * A data message as a fragment sequence: `sizes` is a fragment size or the list of fragment
 * sizes (the remainder goes into a last fragment). Empty fragments are allowed.
 */
export function fragmentsOf(opcode: number, payload: Payload, sizes: number | number[]): FrameSpec[] {
  const buf = toBuffer(payload);
  const parts: Buffer[] = [];
  if (typeof sizes === 'number') parts.push(...pieces(buf, sizes));
  else {
    let off = 0;
    for (const n of sizes) {
      parts.push(buf.subarray(off, off + n));
      off += n;
    }
    if (off < buf.length) parts.push(buf.subarray(off));
  }
  return parts.map((p, i) => ({
    opcode: i === 0 ? opcode : Op.Continuation,
    payload: p,
    fin: i === parts.length - 1,
  }));
}
