import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from './websocket.js';

/** The events of a WebSocket and their arguments, as ws emits them. */
export interface WebSocketEvents {
  open: [];
  message: [data: WebSocket.RawData, isBinary: boolean];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  upgrade: [response: IncomingMessage];
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  redirect: [url: string, request: ClientRequest];
}

/** The events of a WebSocketServer and their arguments. */
export interface ServerEvents {
  connection: [socket: WebSocket, request: IncomingMessage];
  error: [error: Error];
  headers: [headers: string[], request: IncomingMessage];
  close: [];
  listening: [];
  wsClientError: [error: Error, socket: Duplex, request: IncomingMessage];
}

/**
 * EventEmitter's listener methods with the arguments of known events typed, so that
 * `ws.on('message', (data, isBinary) => ...)` type-checks without annotations, as with @types/ws.
 */
type Args<Events, K extends keyof Events> = Events[K] & unknown[];
export interface TypedListeners<Events> {
  on<K extends keyof Events & string>(event: K, listener: (...args: Args<Events, K>) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: any other event, as EventEmitter takes it
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof Events & string>(event: K, listener: (...args: Args<Events, K>) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: any other event, as EventEmitter takes it
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off<K extends keyof Events & string>(event: K, listener: (...args: Args<Events, K>) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: any other event, as EventEmitter takes it
  off(event: string | symbol, listener: (...args: any[]) => void): this;
  addListener<K extends keyof Events & string>(event: K, listener: (...args: Args<Events, K>) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: any other event, as EventEmitter takes it
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  removeListener<K extends keyof Events & string>(
    event: K,
    listener: (...args: Args<Events, K>) => void,
  ): this;
  // biome-ignore lint/suspicious/noExplicitAny: any other event, as EventEmitter takes it
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

type ListenerMethods = 'on' | 'once' | 'off' | 'addListener' | 'removeListener';

/** EventEmitter as a base class whose listener methods know `Events` (the same class at run time). */
export function typedEmitter<Events>(): new () => Omit<EventEmitter, ListenerMethods> &
  TypedListeners<Events> {
  return EventEmitter as never;
}
