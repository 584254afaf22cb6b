import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from './websocket.js';

/** The events of a WebSocket and their arguments, as ws emits them. */
export interface WebSocketEvents {
  /** A client's handshake completed. */
  open: [];
  /** A whole message: text arrives as a Buffer of UTF-8 with `isBinary` false. */
  message: [data: WebSocket.RawData, isBinary: boolean];
  /** The connection closed: the peer's close code (1005 without one, 1006 without a close frame) and reason. */
  close: [code: number, reason: Buffer];
  /** The peer broke the protocol (with a `WS_ERR_*` code), or a client's handshake failed. */
  error: [error: Error];
  /** A ping arrived; the pong has been sent. */
  ping: [data: Buffer];
  /** A pong arrived. */
  pong: [data: Buffer];
  /** A client got the server's 101 response. */
  upgrade: [response: IncomingMessage];
  /** A client got a response other than 101; without a listener the handshake fails. */
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  /** A client follows a redirect (`followRedirects`); the listener may change the new request's headers. */
  redirect: [url: string, request: ClientRequest];
}

/** The events of a WebSocketServer and their arguments. */
export interface ServerEvents {
  /** A client connected. */
  connection: [socket: WebSocket, request: IncomingMessage];
  /** The HTTP server made from `port` failed (e.g. the port is taken). */
  error: [error: Error];
  /** The 101 response's header lines, before they are written: a listener may add some. */
  headers: [headers: string[], request: IncomingMessage];
  /** The server has closed. */
  close: [];
  /** The HTTP server is listening. */
  listening: [];
  /** An upgrade request was invalid; the listener answers it (otherwise the server does). */
  wsClientError: [error: Error, socket: Duplex, request: IncomingMessage];
}

/** The arguments of event `K`. */
export type EventArgs<Events, K extends keyof Events> = Events[K] & unknown[];
/** A listener of any event. */
// biome-ignore lint/suspicious/noExplicitAny: any event's arguments, as EventEmitter takes them
export type AnyListener = (...args: any[]) => void;

/**
 * Node's EventEmitter, with the arguments of known events typed, so that
 * `ws.on('message', (data, isBinary) => ...)` type-checks without annotations, as with @types/ws.
 */
export interface Emitter<Events> {
  /** Adds a listener of `event`. */
  on<K extends keyof Events & string>(event: K, listener: (...args: EventArgs<Events, K>) => void): this;
  /** Adds a listener of any event. */
  on(event: string | symbol, listener: AnyListener): this;
  /** Adds a listener called once. */
  once<K extends keyof Events & string>(event: K, listener: (...args: EventArgs<Events, K>) => void): this;
  /** Adds a listener of any event, called once. */
  once(event: string | symbol, listener: AnyListener): this;
  /** Removes a listener. */
  off<K extends keyof Events & string>(event: K, listener: (...args: EventArgs<Events, K>) => void): this;
  /** Removes a listener of any event. */
  off(event: string | symbol, listener: AnyListener): this;
  /** Same as `on`. */
  addListener<K extends keyof Events & string>(
    event: K,
    listener: (...args: EventArgs<Events, K>) => void,
  ): this;
  /** Same as `on`, for any event. */
  addListener(event: string | symbol, listener: AnyListener): this;
  /** Same as `off`. */
  removeListener<K extends keyof Events & string>(
    event: K,
    listener: (...args: EventArgs<Events, K>) => void,
  ): this;
  /** Same as `off`, for any event. */
  removeListener(event: string | symbol, listener: AnyListener): this;
  /** Adds a listener before the others. */
  prependListener(event: string | symbol, listener: AnyListener): this;
  /** Adds a listener called once, before the others. */
  prependOnceListener(event: string | symbol, listener: AnyListener): this;
  /** Removes every listener (of `event`, or of all events). */
  removeAllListeners(event?: string | symbol): this;
  /** Calls the listeners of `event`; true if there were any. */
  emit(event: string | symbol, ...args: unknown[]): boolean;
  /** The listeners of `event`. */
  listeners(event: string | symbol): Function[];
  /** The listeners of `event`, with the wrappers `once` adds. */
  rawListeners(event: string | symbol): Function[];
  /** How many listeners `event` has. */
  listenerCount(event: string | symbol): number;
  /** The events that have listeners. */
  eventNames(): Array<string | symbol>;
  /** Sets how many listeners of one event are allowed before a warning. */
  setMaxListeners(n: number): this;
  /** How many listeners of one event are allowed before a warning. */
  getMaxListeners(): number;
}

/**
 * EventEmitter as a base class whose listener methods know `Events` (the same class at run time),
 * with EventEmitter's static members, as @types/ws's classes have them.
 */
export function typedEmitter<Events>(): (new () => Emitter<Events>) & Omit<typeof EventEmitter, 'prototype'> {
  return EventEmitter as never;
}
