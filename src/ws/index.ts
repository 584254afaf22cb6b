/**
 * wsx/ws: ws's API on wsx. `import WebSocket, { WebSocketServer } from 'wsx/ws'` (or
 * `require('wsx/ws')`) where code imported 'ws'. Differences: docs/migrating-from-ws.md.
 *
 * @module wsx/ws
 */

import { WebSocketServer } from './server.js';
import { createWebSocketStream } from './stream.js';
import { WebSocket } from './websocket.js';

export type { ClientOptions } from './client-handshake.js';
export type { BinaryType } from './constants.js';
export type { WsPerMessageDeflateOptions as PerMessageDeflateOptions } from './deflate-options.js';
export { CloseEvent, ErrorEvent, Event, type EventListenerLike, MessageEvent } from './events.js';
export type { ControlCallback, SendCallback } from './outbox.js';
export type { AnyListener, Emitter, EventArgs, ServerEvents, WebSocketEvents } from './typed-events.js';
export type { WebSocketLike } from './websocket-like.js';

// The types @types/ws exports by name.
/** A received message: a Buffer, or as `binaryType` asks (an ArrayBuffer, an array of Buffers). */
export type RawData = WebSocket.RawData;
/** What may be sent or received. */
export type Data = WebSocket.Data;
/** A TLS certificate or key, as the TLS options take them. */
export type CertMeta = WebSocket.CertMeta;
export type {
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  VerifyClientInfo,
} from './server.js';

// ws's default export is the WebSocket class, with the rest of the API as its properties.
const statics = { Server: WebSocketServer, WebSocketServer, WebSocket, createWebSocketStream };
for (const [name, value] of Object.entries(statics)) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true, configurable: true, writable: true });
}

export {
  createWebSocketStream,
  WebSocket,
  WebSocket as default,
  // What `require('wsx/ws')` returns (Node >= 20.19): the class itself, as with ws.
  WebSocket as 'module.exports',
  WebSocketServer,
  WebSocketServer as Server,
};
