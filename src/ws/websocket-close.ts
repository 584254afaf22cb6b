/**
 * How a WebSocket stops: the closing handshake, terminate, an aborted handshake while connecting,
 * a Blob that could not be read, and what sending does once the socket is no longer open.
 */
import { abortHandshake } from './client-handshake.js';
import { CLOSED, CLOSING, CONNECTING, READY_STATE_NAMES } from './constants.js';
import type { SendCallback } from './outbox.js';
import { checkCloseArguments } from './send-data.js';
import type { WebSocket } from './websocket.js';

/** See `WebSocket.close`. */
export function closeWebSocket(
  ws: WebSocket,
  code: number | undefined,
  reason: string | Buffer | undefined,
): void {
  const state = ws.readyState;
  if (state === CLOSED) return;
  if (state === CONNECTING) {
    abortConnecting(ws);
    return;
  }
  if (state === CLOSING && (ws._closeFrameSent || ws._inner === null)) return;
  const reasonText = checkCloseArguments(code, reason);
  ws._readyState = CLOSING;
  if (ws._closeFrameSent) return;
  ws._closeFrameSent = true;
  if (ws._outbox?.busy) ws._outbox.push(null, 0, undefined, () => closeNow(ws, code, reasonText));
  else closeNow(ws, code, reasonText);
}

function closeNow(ws: WebSocket, code: number | undefined, reason: string): void {
  const inner = ws._inner!;
  if (code === undefined) inner.closeWithoutStatus();
  else inner.close(code, reason);
  // ws writes the close frame at once: it is not left for the end of the tick.
  inner.flushNow();
}

/** See `WebSocket.terminate`. */
export function terminateWebSocket(ws: WebSocket): void {
  const state = ws.readyState;
  if (state === CLOSED) return;
  if (state === CONNECTING) {
    abortConnecting(ws);
    return;
  }
  ws._readyState = CLOSING;
  ws._inner?.terminate();
}

function abortConnecting(ws: WebSocket): void {
  abortHandshake(ws, ws._req, 'WebSocket was closed before the connection was established');
}

/** A Blob given to `send` could not be read: the connection ends, as with ws. */
export function blobFailed(ws: WebSocket, error: Error): void {
  if (ws._readyState === CLOSED) return;
  ws._readyState = CLOSING;
  ws._socket?.end();
  if (ws._errorEmitted) return;
  ws._errorEmitted = true;
  ws.emit('error', error);
}

/** `send`, `ping` or `pong` when not open: the bytes are counted in `bufferedAmount`, and `cb` gets an error. */
export function sendAfterClose(
  ws: WebSocket,
  data: string | Uint8Array | Blob,
  cb: SendCallback | undefined,
): void {
  ws._bufferedAmount +=
    data instanceof Blob ? data.size : typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (cb === undefined) return;
  const state = ws.readyState;
  process.nextTick(cb, new Error(`WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`));
}
