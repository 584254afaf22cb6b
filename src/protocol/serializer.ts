import { maskInto, unmaskInPlace } from './mask.js';

/**
 * Frame encoding (RFC 6455 §5.2). Small frames are built in one allocation holding header
 * and payload; a client's payload is masked while it is copied in. Large server payloads
 * are not copied: the caller writes `encodeHeader()` and the payload back to back.
 */

/** Size of the header for a payload of `length` bytes, with or without a masking key. */
export function headerLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes a frame header into `target` at `at` (default: its start); returns where the header ends. */
export function writeHeader(
  target: Uint8Array,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  length: number,
  maskKey: Uint8Array | null,
  at = 0,
): number {
  target[at] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = maskKey === null ? 0 : 0x80;
  let offset: number;
  if (length < 126) {
    target[at + 1] = maskBit | length;
    offset = at + 2;
  } else if (length < 0x10000) {
    target[at + 1] = maskBit | 126;
    target[at + 2] = length >>> 8;
    target[at + 3] = length & 0xff;
    offset = at + 4;
  } else {
    target[at + 1] = maskBit | 127;
    // Lengths are below 2^53 here: split into two 32-bit halves.
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[at + 2] = high >>> 24;
    target[at + 3] = (high >>> 16) & 0xff;
    target[at + 4] = (high >>> 8) & 0xff;
    target[at + 5] = high & 0xff;
    target[at + 6] = low >>> 24;
    target[at + 7] = (low >>> 16) & 0xff;
    target[at + 8] = (low >>> 8) & 0xff;
    target[at + 9] = low & 0xff;
    offset = at + 10;
  }
  if (maskKey !== null) {
    target[offset] = maskKey[0];
    target[offset + 1] = maskKey[1];
    target[offset + 2] = maskKey[2];
    target[offset + 3] = maskKey[3];
    offset += 4;
  }
  return offset;
}

/** A whole frame in one buffer: header, then the payload (masked with `maskKey` if given). */
export function encodeFrame(
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  payload: Uint8Array,
  maskKey: Uint8Array | null,
): Buffer {
  const length = payload.length;
  const frame = Buffer.allocUnsafe(headerLength(length, maskKey !== null) + length);
  const offset = writeHeader(frame, opcode, fin, rsv1, length, maskKey);
  if (maskKey !== null) maskInto(frame, offset, payload, maskKey);
  else frame.set(payload, offset);
  return frame;
}

/** A whole frame in one buffer whose payload is `pieces` back to back (`length` bytes in all), masked if a key is given. */
export function encodePiecesFrame(
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  pieces: readonly Uint8Array[],
  length: number,
  maskKey: Uint8Array | null,
): Buffer {
  const frame = Buffer.allocUnsafe(headerLength(length, maskKey !== null) + length);
  const start = writeHeader(frame, opcode, fin, rsv1, length, maskKey);
  let offset = start;
  for (const piece of pieces) {
    frame.set(piece, offset);
    offset += piece.length;
  }
  if (maskKey !== null) unmaskInPlace(frame, start, offset, maskKey, 0);
  return frame;
}

/** A whole text frame in one buffer, encoding `text` straight into place. */
export function encodeTextFrame(
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  text: string,
  maskKey: Uint8Array | null,
  length = Buffer.byteLength(text, 'utf8'),
): Buffer {
  const frame = Buffer.allocUnsafe(headerLength(length, maskKey !== null) + length);
  const offset = writeHeader(frame, opcode, fin, rsv1, length, maskKey);
  frame.write(text, offset, 'utf8');
  if (maskKey !== null) unmaskInPlace(frame, offset, offset + length, maskKey, 0);
  return frame;
}

/** Just the header of an unmasked frame, for payloads written separately without a copy. */
export function encodeHeader(opcode: number, fin: boolean, rsv1: boolean, length: number): Buffer {
  const header = Buffer.allocUnsafe(headerLength(length, false));
  writeHeader(header, opcode, fin, rsv1, length, null);
  return header;
}
