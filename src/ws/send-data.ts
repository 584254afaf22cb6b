import type { Duplex } from 'node:stream';
import { isValidWireCloseCode, MAX_CLOSE_REASON_BYTES } from '../protocol/close.js';
import { EMPTY_BUFFER } from './constants.js';
import type { SendCallback } from './outbox.js';

/** What `send` takes, as the node socket takes it: a string, or bytes over the same memory. */
export function toSendable(data: unknown): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  // As ws does, anything else goes through Buffer.from (an array of bytes; other values throw).
  return Buffer.from(data as never);
}

/** A ping or pong payload, with ws's limit and wording. */
export function controlPayload(data: unknown): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const bytes = toSendable(data);
  const payload = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  if (payload.length > 125) throw new RangeError('The data size must not be greater than 125 bytes');
  return payload;
}

/** Checks `close(code, reason)` as ws does; returns the reason as text. */
export function checkCloseArguments(code: number | undefined, reason: string | Buffer | undefined): string {
  if (code !== undefined && (typeof code !== 'number' || !isValidWireCloseCode(code))) {
    throw new TypeError('First argument must be a valid error code number');
  }
  const text =
    reason === undefined ? '' : typeof reason === 'string' ? reason : Buffer.from(reason).toString();
  const length = typeof reason === 'string' || reason === undefined ? Buffer.byteLength(text) : reason.length;
  if (length > MAX_CLOSE_REASON_BYTES) throw new RangeError('The message must not be greater than 123 bytes');
  return text;
}

/**
 * Calls `cb` once what was written so far has been handed to the operating system: the
 * node socket flushes its frames at the end of the tick, and an empty write after them
 * completes in order.
 */
export function whenWritten(socket: Duplex, cb: SendCallback): void {
  process.nextTick(writeMarker, socket, cb);
}
function writeMarker(socket: Duplex, cb: SendCallback): void {
  if (socket.destroyed || socket.writableEnded) {
    cb(new Error('The socket was closed before the data was written'));
    return;
  }
  socket.write(EMPTY_BUFFER, (error) => cb(error ?? undefined));
}
