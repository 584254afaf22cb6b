import type { SharedCompression } from '../protocol/extensions/shared-compression.js';
import { Opcode } from '../protocol/opcodes.js';
import { encodeFrame, encodeTextFrame } from '../protocol/serializer.js';

export type { SharedCompression };

/**
 * A message framed once for many sockets: a topic publish builds one, and every subscriber
 * writes the same Buffer (server frames are unmasked, so the bytes do not depend on the
 * connection). Frames are made on first use and cached: the plain frame, and one compressed
 * frame per `SharedCompression.key` (compressed once per permessage-deflate parameter set,
 * not once per socket).
 */
export class PreparedMessage {
  /** The payload as given: a string for text (encoded straight into the frame), or bytes. */
  readonly data: string | Uint8Array;
  /** Sent as a binary message (true) or a text one (false). */
  readonly isBinary: boolean;
  private plain: Buffer | null = null;
  private compressed: Map<string, Buffer | null> | null = null;
  /** A text payload encoded once, for the adapter and every compression parameter set. */
  private encoded: Uint8Array | null = null;

  constructor(data: string | Uint8Array, isBinary: boolean) {
    this.data = data;
    this.isBinary = isBinary;
  }

  /** The payload's size in bytes. */
  get byteLength(): number {
    const data = this.data;
    return typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
  }

  /** The payload as bytes (what a topic adapter carries to other processes). */
  bytes(): Uint8Array {
    const data = this.data;
    if (typeof data !== 'string') return data;
    this.encoded ??= Buffer.from(data, 'utf8');
    return this.encoded;
  }

  /** The whole frame for a connection: plain, or compressed once per parameter set. */
  frame(compression: SharedCompression | null = null): Buffer {
    if (compression !== null) {
      const cache = (this.compressed ??= new Map());
      let frame = cache.get(compression.key);
      if (frame === undefined) {
        const payload = compression.compress(this.bytes());
        frame = payload === null ? null : encodeFrame(this.opcode, true, true, payload, null);
        cache.set(compression.key, frame);
      }
      if (frame !== null) return frame;
    }
    if (this.plain === null) {
      const data = this.data;
      this.plain =
        typeof data === 'string'
          ? encodeTextFrame(this.opcode, true, false, data, null)
          : encodeFrame(this.opcode, true, false, data, null);
    }
    return this.plain;
  }

  private get opcode(): number {
    return this.isBinary ? Opcode.Binary : Opcode.Text;
  }
}
