/**
 * What the permessage-deflate benchmark's load generator and runner share: the test message
 * (1 KiB of JSON-like text), the frames a client sends for it, and the RFC 7692 pieces.
 *
 * The load generator does not compress at run time. A client that keeps its compression
 * context (context takeover, what browsers do) and sends the same message again and again
 * produces a sequence of compressed payloads that settles on one value once the LZ77 window is
 * full of copies of the message: from then on the server's decompressor is in the same state
 * before every message, so repeating that last payload is exactly what a real client would
 * make the server do. `compressedSequence` computes that sequence once per run.
 */
import { randomBytes } from 'node:crypto';
import { constants, createDeflateRaw } from 'node:zlib';

export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** What the load generator offers: what browsers send. */
export const OFFER = 'permessage-deflate; client_max_window_bits';

/** JSON-like ASCII text of exactly `size` bytes. */
export function jsonMessage(size: number): Buffer {
  let out = '';
  let i = 0;
  while (out.length < size) {
    out += `{"id":${i},"user":"user-${i % 97}","tags":["a${i % 7}","b${i % 13}"],"score":${(i * 7919) % 1000}},`;
    i++;
  }
  return Buffer.from(out.slice(0, size));
}

/** Messages after which the 32 KiB window holds nothing but copies of the message. */
export function saturation(message: Buffer, windowBits: number): number {
  return Math.ceil((1 << windowBits) / message.length) + 1;
}

/**
 * The compressed payloads (tail stripped) of `message` sent again and again through one
 * compressor with context takeover; the last one repeats forever after.
 */
export async function compressedSequence(message: Buffer, windowBits: number): Promise<Buffer[]> {
  const deflate = createDeflateRaw({ windowBits });
  const pieces: Buffer[] = [];
  deflate.on('data', (piece: Buffer) => pieces.push(piece));
  const sequence: Buffer[] = [];
  const count = saturation(message, windowBits) + 1;
  for (let i = 0; i < count; i++) {
    deflate.write(message);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    const out = Buffer.concat(pieces.splice(0));
    if (!out.subarray(out.length - 4).equals(TAIL)) throw new Error('sync flush without its tail');
    sequence.push(out.subarray(0, out.length - 4));
  }
  deflate.close();
  return sequence;
}

/** A masked client frame (FIN, opcode, RSV1 when compressed) with a fixed key. */
export function clientFrame(opcode: number, payload: Buffer, compressed: boolean, key: Buffer): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | (compressed ? 0x40 : 0) | opcode, 0x80 | length])
      : length < 0x10000
        ? Buffer.from([0x80 | (compressed ? 0x40 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : (() => {
            const h = Buffer.alloc(10);
            h[0] = 0x80 | (compressed ? 0x40 : 0) | opcode;
            h[1] = 0x80 | 127;
            h.writeUInt32BE(length, 6);
            return h;
          })();
  const masked = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

export function maskKey(): Buffer {
  return randomBytes(4);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
