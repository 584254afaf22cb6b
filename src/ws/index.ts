/**
 * `wsx/ws`: ws's API on wsx. `import WebSocket, { WebSocketServer } from 'wsx/ws'` (or
 * `require('wsx/ws')`) where code imported 'ws'. Differences: docs/migrating-from-ws.md.
 */

import { WebSocketServer } from './server.js';
import { createWebSocketStream } from './stream.js';
import { WebSocket } from './websocket.js';

export type { ClientOptions } from './client-handshake.js';
export type { WsPerMessageDeflateOptions as PerMessageDeflateOptions } from './deflate-options.js';
export { CloseEvent, ErrorEvent, Event, MessageEvent } from './events.js';
export type {
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  VerifyClientInfo,
} from './server.js';

/** ws's default export: the WebSocket class, with the rest of the API as its properties. */
interface WsExport {
  Server: typeof WebSocketServer;
  WebSocketServer: typeof WebSocketServer;
  WebSocket: typeof WebSocket;
  createWebSocketStream: typeof createWebSocketStream;
}
const statics = { Server: WebSocketServer, WebSocketServer, WebSocket, createWebSocketStream };
for (const [name, value] of Object.entries(statics)) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true, configurable: true, writable: true });
}
const DefaultExport = WebSocket as typeof WebSocket & WsExport;

export {
  createWebSocketStream,
  DefaultExport as default,
  // What `require('wsx/ws')` returns (Node >= 20.19): the class itself, as with ws.
  DefaultExport as 'module.exports',
  WebSocket,
  WebSocketServer as Server,
  WebSocketServer,
};
