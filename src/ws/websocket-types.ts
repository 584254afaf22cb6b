/**
 * The WebSocket class's namespace of types (`WebSocket.RawData`, `WebSocket.MessageEvent`...),
 * merged into the class from here (websocket.ts re-exports this module, so they go where it goes).
 */
import type { WebSocketLike } from './websocket-like.js';

declare module './websocket.js' {
  /**
   * The types ws's users reach through the class (`WebSocket.RawData`, `WebSocket.ServerOptions`...),
   * as @types/ws declares them.
   */
  namespace WebSocket {
    /** A received message: a Buffer, or as `binaryType` asks. */
    type RawData = Buffer | ArrayBuffer | Buffer[];
    /** What may be sent or received. */
    type Data = string | Buffer | ArrayBuffer | Buffer[];
    /** A TLS certificate or key. */
    type CertMeta = string | string[] | Buffer | Buffer[];
    /** Options of a client. */
    type ClientOptions = import('./client-handshake.js').ClientOptions;
    /** Options of a server. */
    type ServerOptions = import('./server.js').ServerOptions;
    /** ws's permessage-deflate options. */
    type PerMessageDeflateOptions = import('./deflate-options.js').WsPerMessageDeflateOptions;
    /** See the server's `verifyClient`. */
    type VerifyClientCallbackSync = import('./server.js').VerifyClientCallbackSync;
    /** See the server's `verifyClient`. */
    type VerifyClientCallbackAsync = import('./server.js').VerifyClientCallbackAsync;
    /** The server class, by ws's older name. */
    type Server = import('./server.js').WebSocketServer;
    /** The server class. */
    type WebSocketServer = import('./server.js').WebSocketServer;
    /** What `on<event>` attributes and `addEventListener` listeners receive (see events.ts). */
    interface Event {
      /** The event's name. */
      type: string;
      /** The WebSocket that dispatched it (typed by its public members only: see WebSocketLike). */
      target: WebSocketLike;
    }
    /** A message event, as `onmessage` gets it. */
    interface MessageEvent extends Event {
      /** The message: a string for text. */
      data: Data;
    }
    /** A close event, as `onclose` gets it. */
    interface CloseEvent extends Event {
      /** Whether both close frames crossed. */
      wasClean: boolean;
      /** The close code. */
      code: number;
      /** The close reason. */
      reason: string;
    }
    /** An error event, as `onerror` gets it. */
    interface ErrorEvent extends Event {
      /** What went wrong. */
      // biome-ignore lint/suspicious/noExplicitAny: whatever was thrown, as @types/ws has it
      error: any;
      /** Its message. */
      message: string;
    }
  }
}
