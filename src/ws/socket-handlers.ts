import type { SocketHandlers, Socket as WsxSocket } from '../node/socket.js';
import { ProtocolViolation } from '../protocol/errors.js';
import { CLOSING, EMPTY_BUFFER } from './constants.js';
import { toWsError } from './errors.js';
import type { WebSocket } from './websocket.js';

/**
 * The one handlers object of every facade socket: each turns wsx's callback into ws's event
 * on the WebSocket the socket carries as its data.
 *
 * A listener that throws is not wsx's business here: with ws the exception escapes the event,
 * so it is thrown again outside the socket's own handling (an uncaught exception, as with ws)
 * rather than failing the connection with 1011.
 */
export const SOCKET_HANDLERS: SocketHandlers<WebSocket> = Object.freeze({
  message(socket: WsxSocket<WebSocket>, data: Buffer, isBinary: boolean): void {
    const ws = socket.data;
    try {
      ws.emit(
        'message',
        isBinary ? asBinaryType(ws.binaryType, data) : data.length === 0 ? EMPTY_BUFFER : data,
        isBinary,
      );
    } catch (error) {
      rethrow(error);
    }
  },
  ping(socket: WsxSocket<WebSocket>, payload: Buffer): void {
    emitSafely(socket.data, 'ping', payload.length === 0 ? EMPTY_BUFFER : payload);
  },
  pong(socket: WsxSocket<WebSocket>, payload: Buffer): void {
    emitSafely(socket.data, 'pong', payload.length === 0 ? EMPTY_BUFFER : payload);
  },
  closing(socket: WsxSocket<WebSocket>, code: number, reason: string): void {
    const ws = socket.data;
    ws._closeFrameReceived = true;
    ws._receivingHalted = true;
    ws._closeCode = code;
    ws._closeMessage = reason === '' ? EMPTY_BUFFER : Buffer.from(reason);
    ws._readyState = CLOSING;
    // wsx answers with the same code and reason when this returns.
    ws._closeFrameSent = true;
  },
  error(socket: WsxSocket<WebSocket>, error: Error): void {
    // ws reports what its receiver rejects; transport errors only end the connection.
    if (!(error instanceof ProtocolViolation)) return;
    const ws = socket.data;
    ws._readyState = CLOSING;
    ws._closeFrameSent = true;
    if (ws._errorEmitted) return;
    ws._errorEmitted = true;
    emitSafely(ws, 'error', toWsError(error));
  },
  close(socket: WsxSocket<WebSocket>): void {
    const ws = socket.data;
    try {
      ws.emitClose();
    } catch (error) {
      rethrow(error);
    }
  },
});

function emitSafely(ws: WebSocket, event: string, arg: unknown): void {
  try {
    ws.emit(event, arg);
  } catch (error) {
    rethrow(error);
  }
}

function rethrow(error: unknown): void {
  process.nextTick(throwError, error);
}
function throwError(error: unknown): never {
  throw error;
}

/** A binary message as `binaryType` asks: a Buffer, an ArrayBuffer, an array of Buffers, or a Blob. */
function asBinaryType(type: string, data: Buffer): unknown {
  switch (type) {
    case 'arraybuffer':
      return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
        ? data.buffer
        : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    case 'fragments':
      return [data.length === 0 ? EMPTY_BUFFER : data];
    case 'blob':
      return new Blob([data]);
    default:
      return data.length === 0 ? EMPTY_BUFFER : data;
  }
}
