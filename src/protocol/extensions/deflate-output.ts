import { constants } from 'node:zlib';
import { emptyList } from '../reused-list.js';
import { runZlib, type ZlibStream } from './sync-zlib.js';

/** RFC 7692 §7.2.1: the empty stored block that ends a sync flush; senders strip it, receivers add it back. */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** §7.2.3.6: an empty message compresses to a single 0x00 byte. */
const EMPTY_COMPRESSED = Buffer.from([0x00]);

/** Compresses one message through `stream`, ending it with `flush`; the tail is stripped. */
export function deflateWith(
  stream: ZlibStream,
  payload: Uint8Array,
  flush: number = constants.Z_SYNC_FLUSH,
): Buffer {
  emptyList(deflated);
  onlyPiece = null;
  const { produced } = runZlib(stream, payload, flush, Number.MAX_SAFE_INTEGER, collectDeflated);
  if (onlyPiece !== null) {
    const result: Buffer = onlyPiece;
    onlyPiece = null;
    return result;
  }
  const joined = stripTail(Buffer.concat(deflated, produced));
  emptyList(deflated);
  return joined;
}

/** What `deflateWith` collects (compression is synchronous, so one set serves all). */
const deflated: Buffer[] = [];
/** The result when zlib gave it in one piece (most messages): copied once, without the tail. */
let onlyPiece: Buffer | null = null;

function collectDeflated(piece: Buffer, last: boolean): void {
  if (last && deflated.length === 0) {
    const kept = endsWithTail(piece) ? piece.length - TAIL.length : piece.length;
    if (kept === 0) onlyPiece = EMPTY_COMPRESSED;
    else {
      onlyPiece = Buffer.allocUnsafe(kept);
      onlyPiece.set(kept === piece.length ? piece : piece.subarray(0, kept));
    }
  } else deflated.push(Buffer.from(piece));
}

function endsWithTail(bytes: Uint8Array): boolean {
  const length = bytes.length;
  return (
    length >= 4 &&
    bytes[length - 4] === 0 &&
    bytes[length - 3] === 0 &&
    bytes[length - 2] === 0xff &&
    bytes[length - 1] === 0xff
  );
}

function stripTail(compressed: Buffer): Buffer {
  const stripped = endsWithTail(compressed) ? compressed.subarray(0, compressed.length - 4) : compressed;
  return stripped.length === 0 ? EMPTY_COMPRESSED : stripped;
}
