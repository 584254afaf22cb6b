import { isUtf8 } from 'node:buffer';
import {
  CloseCode,
  InvalidCloseCodeError,
  InvalidClosePayloadError,
  InvalidCloseReasonError,
  type ProtocolViolation,
  UsageError,
} from './errors.js';

/** What a close frame carried: 1005 (no status) when its payload was empty. */
export interface CloseInfo {
  /** The close code (RFC 6455 §7.4), 1005 when the frame had none. */
  readonly code: number;
  /** The UTF-8 reason (at most 123 bytes), `''` when none was given. */
  readonly reason: string;
}

export const NO_STATUS: CloseInfo = Object.freeze({ code: 1005, reason: '' });

/** RFC 6455 §5.5: control frame payloads are at most 125 bytes, so a reason is at most 123. */
export const MAX_CLOSE_REASON_BYTES = 123;

const MAX_FAILURE_REASON_CHARS = 100;

/**
 * Whether a peer may send this code in a close frame (RFC 6455 §7.4, IANA registry):
 * 1000-1003 and 1007-1014 are defined for use on the wire, 3000-4999 are for
 * libraries and applications. 1004 is reserved; 1005, 1006 and 1015 must never be sent.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Parses a received close frame's payload; throws the violation that fails the connection. */
export function parseClosePayload(payload: Uint8Array): CloseInfo {
  if (payload.length === 0) return NO_STATUS;
  // RFC 6455 §5.5.1: if there is a body, the first two bytes MUST be a status code.
  if (payload.length === 1) throw new InvalidClosePayloadError();
  const code = (payload[0] << 8) | payload[1];
  if (!isValidWireCloseCode(code)) throw new InvalidCloseCodeError(String(code));
  if (payload.length === 2) return { code, reason: '' };
  const reasonBytes = payload.subarray(2);
  if (!isUtf8(reasonBytes)) throw new InvalidCloseReasonError();
  return { code, reason: reasonText(reasonBytes) };
}

/** A close reason's bytes as text, decoded in place (no copy; nothing made for an empty one). */
export function reasonText(reasonBytes: Uint8Array): string {
  if (reasonBytes.length === 0) return '';
  return Buffer.from(reasonBytes.buffer, reasonBytes.byteOffset, reasonBytes.length).toString('utf8');
}

/** Validates what an application asks to send, so that a bad code never reaches the wire. */
export function validateCloseToSend(code: number, reason: string): Buffer {
  if (!Number.isInteger(code) || !isValidWireCloseCode(code)) {
    throw new UsageError(`close code ${code} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999`);
  }
  const reasonBytes = Buffer.from(reason, 'utf8');
  if (reasonBytes.length > MAX_CLOSE_REASON_BYTES) {
    throw new UsageError(
      `close reason is ${reasonBytes.length} bytes in UTF-8; the limit is ${MAX_CLOSE_REASON_BYTES}`,
    );
  }
  return reasonBytes;
}

/** Builds a close frame payload: 2-byte code then the UTF-8 reason (none for 1005). */
export function encodeClosePayload(code: number, reasonBytes: Uint8Array): Buffer {
  if (code === 1005) return Buffer.alloc(0);
  const payload = Buffer.allocUnsafe(2 + reasonBytes.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(reasonBytes, 2);
  return payload;
}

/** The reason sent in the close frame of a failed connection: the violation's message, cut short. */
export function failureReason(error: ProtocolViolation): Buffer {
  // Details of internal errors stay here; the peer only learns the code.
  const reason =
    error.closeCode === CloseCode.InternalError ? '' : error.message.slice(0, MAX_FAILURE_REASON_CHARS);
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return bytes;
  // A message with characters beyond ASCII can exceed what a control frame holds: cut it at the
  // start of a character (UTF-8 continuation bytes are 10xxxxxx), so the reason stays valid UTF-8.
  let end = MAX_CLOSE_REASON_BYTES;
  while ((bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
