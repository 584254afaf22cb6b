/**
 * Pings and pongs a WebSocket sends: ws's argument shapes, the 125-byte limit, and their turn
 * behind a Blob being read.
 */
import { CONNECTING, OPEN } from './constants.js';
import { Outbox, type SendCallback } from './outbox.js';
import { controlPayload, whenWritten } from './send-data.js';
import type { WebSocket } from './websocket.js';
import { blobFailed, sendAfterClose } from './websocket-close.js';

/** See `WebSocket.ping` and `WebSocket.pong`. */
export function sendControl(
  ws: WebSocket,
  kind: 'ping' | 'pong',
  data: unknown,
  mask: unknown,
  cb: SendCallback | undefined,
): void {
  if (ws._readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
  if (typeof data === 'function') {
    cb = data as SendCallback;
    data = undefined;
  } else if (typeof mask === 'function') {
    cb = mask as SendCallback;
  }
  if (typeof data === 'number') data = data.toString();
  const blob = data instanceof Blob ? data : null;
  if (blob !== null && blob.size > 125)
    throw new RangeError('The data size must not be greater than 125 bytes');
  const payload = blob === null ? controlPayload(data) : null;
  if (ws.readyState !== OPEN) {
    sendAfterClose(ws, blob ?? payload!, cb);
    return;
  }
  const run = (bytes: Uint8Array | null) => {
    if (kind === 'ping') ws._inner!.ping(bytes ?? payload!);
    else ws._inner!.pong(bytes ?? payload!);
    if (cb !== undefined) whenWritten(ws._socket!, cb);
  };
  if (blob !== null || ws._outbox?.busy) {
    ws._outbox ??= new Outbox((error) => blobFailed(ws, error));
    ws._outbox.push(blob, blob?.size ?? payload!.length, cb, run);
  } else {
    run(null);
  }
}
