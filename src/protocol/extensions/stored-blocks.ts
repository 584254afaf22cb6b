/**
 * Deflate stored blocks (RFC 1951 §3.2.4): bytes wrapped as they are, each block a 5-byte
 * header (BFINAL 0, BTYPE 00 and padding in one byte, then LEN and its complement) and up to
 * 65,535 bytes. No zlib work goes into them, and any inflater reads them.
 *
 * permessage-deflate sends what is not worth compressing this way, with RSV1 set, rather
 * than as a plain message (RSV1 clear): RFC 7692 §6 allows both, but some peers stall on
 * the plain one (libwebsockets 4.1's client hands such a frame to its inflater again and
 * again, without end). Stored blocks also seed a reused decompressor with its history.
 */

/** Largest stored block: LEN is 16 bits. */
const MAX_STORED = 0xffff;
const HEADER = 5;

/**
 * What ends a message: the first byte of one more stored block, empty, whose LEN and NLEN
 * (0x00 0x00 0xff 0xff) the receiver appends (RFC 7692 §7.2.2), as after a sync flush.
 * Without it the appended bytes would start a block of their own and swallow the next
 * message. A message with no data is this byte alone (§7.2.3.6).
 */
const END = Buffer.from([0x00]);

/**
 * The stored blocks that carry `data`, as pieces to write in order: each block's header,
 * then a view of `data` (not a copy). `end` marks a message's last piece.
 */
export function storedPieces(data: Uint8Array, end: boolean): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let from = 0; from < data.length; from += MAX_STORED) {
    const length = Math.min(MAX_STORED, data.length - from);
    const header = Buffer.allocUnsafe(HEADER);
    header[0] = 0; // BFINAL 0, BTYPE 00 (stored); the rest of the byte is padding
    header.writeUInt16LE(length, 1);
    header.writeUInt16LE(~length & 0xffff, 3);
    pieces.push(header, data.subarray(from, from + length));
  }
  if (end) pieces.push(END);
  return pieces;
}

/** The stored blocks that carry `data`, in one buffer. */
export function storedBlocks(data: Uint8Array, end: boolean): Buffer {
  const pieces = storedPieces(data, end);
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return Buffer.concat(pieces, length);
}

/**
 * The data of a message made only of stored blocks and the end byte (what `storedPieces`
 * makes), as views of `payload`, in order; null for anything else (compressed data, odd
 * padding bits, a final block), which is left to the inflater.
 */
export function readStoredMessage(payload: Buffer): Buffer[] | null {
  const views: Buffer[] = [];
  let at = 0;
  while (payload.length - at > 1) {
    if (payload[at] !== 0 || payload.length - at < HEADER) return null;
    const length = payload[at + 1] | (payload[at + 2] << 8);
    const check = payload[at + 3] | (payload[at + 4] << 8);
    if ((length ^ 0xffff) !== check || payload.length - at - HEADER < length) return null;
    at += HEADER;
    views.push(payload.subarray(at, at + length));
    at += length;
  }
  return at === payload.length - 1 && payload[at] === 0 ? views : null;
}
