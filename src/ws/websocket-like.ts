import type { BinaryType } from './constants.js';
import type { EventListenerLike } from './events.js';
import type { ControlCallback, SendCallback } from './outbox.js';
import type { Emitter, WebSocketEvents } from './typed-events.js';
import type { WebSocket } from './websocket.js';

/**
 * The public members of a WebSocket, as @types/ws declares them, and nothing else: what an
 * event's `target` and `createWebSocketStream` take. It carries none of the class's internals, so
 * that @types/ws's WebSocket fits it, which TypeScript requires for the facade's sockets to be
 * assignable where @types/ws's are expected (`onopen` takes events whose `target` is one).
 */
export interface WebSocketLike extends Emitter<WebSocketEvents> {
  /** The handshake is under way. */
  readonly CONNECTING: 0;
  /** Messages can be sent. */
  readonly OPEN: 1;
  /** The closing handshake has started. */
  readonly CLOSING: 2;
  /** The connection has closed. */
  readonly CLOSED: 3;
  /** How binary messages are given to `message` listeners. */
  binaryType: BinaryType;
  /** Bytes sent but not yet handed to the operating system. */
  readonly bufferedAmount: number;
  /** Names of the negotiated extensions, comma-separated. */
  readonly extensions: string;
  /** Whether `pause` stopped reading. */
  readonly isPaused: boolean;
  /** The subprotocol agreed ('' for none). */
  readonly protocol: string;
  /** CONNECTING, OPEN, CLOSING or CLOSED. */
  readonly readyState: 0 | 1 | 2 | 3;
  /** The URL a client connected to. */
  readonly url: string;
  /** The 'open' listener set as an attribute. */
  onopen: ((event: WebSocket.Event) => void) | null;
  /** The 'message' listener set as an attribute. */
  onmessage: ((event: WebSocket.MessageEvent) => void) | null;
  /** The 'close' listener set as an attribute. */
  onclose: ((event: WebSocket.CloseEvent) => void) | null;
  /** The 'error' listener set as an attribute. */
  onerror: ((event: WebSocket.ErrorEvent) => void) | null;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string | Buffer): void;
  /** Sends a ping. */
  ping(data?: unknown, mask?: boolean | ControlCallback, cb?: ControlCallback): void;
  /** Sends an unsolicited pong. */
  pong(data?: unknown, mask?: boolean | ControlCallback, cb?: ControlCallback): void;
  /** Sends a message. */
  send(
    data: unknown,
    options?: { binary?: boolean; compress?: boolean; fin?: boolean; mask?: boolean } | SendCallback,
    cb?: SendCallback,
  ): void;
  /** Drops the connection at once. */
  terminate(): void;
  /** Stops reading from the connection. */
  pause(): void;
  /** Reads again after `pause`. */
  resume(): void;
  /** Adds a DOM-style listener. */
  addEventListener(type: string, listener: EventListenerLike, options?: { once?: boolean }): void;
  /** Removes a listener added by `addEventListener`. */
  removeEventListener(type: string, listener: EventListenerLike): void;
}
