import type { ConnectionOptions, Role } from '../protocol/connection-types.js';
import type { WebSocketError } from '../protocol/errors.js';
import type { DeflateParams } from '../protocol/extensions/negotiation.js';
import type { Socket } from './socket.js';
import type { HttpVersion, Transport } from './transport.js';

/**
 * What an application does with a socket's events. One handlers object is shared by every
 * socket of a server path (or client), so a connection costs no closures. `S` is the socket type
 * the handlers are given (a layer above may give its own subclass).
 */
export interface SocketHandlers<Data = unknown, S = Socket<Data>> {
  /** The connection is open: messages can be sent. */
  open?(socket: S): void;
  /** A whole message. Text arrives as its UTF-8 bytes (already validated) with `isBinary` false. */
  message?(socket: S, data: Buffer, isBinary: boolean): void;
  /** The transport has closed. `code` is the peer's close code, 1005 if it sent none, or 1006 when no close frame came. */
  close?(socket: S, code: number, reason: string): void;
  /** The transport's buffer has emptied after `send` reported backpressure. */
  drain?(socket: S): void;
  /** A ping arrived; the pong has been sent already. */
  ping?(socket: S, payload: Buffer): void;
  /** A pong arrived (the answer to a ping, or an unsolicited one). */
  pong?(socket: S, payload: Buffer): void;
  /** The connection failed (protocol violation, limit, handler exception, transport error); `close` follows. */
  error?(socket: S, error: WebSocketError | Error): void;
  /**
   * The peer's close frame arrived (the closing handshake has started, or is complete); `close`
   * follows when TCP closes. Data can no longer be sent. Unless the socket had already sent its
   * close frame, calling `close(code, reason)` here answers with those; otherwise the peer's
   * code and reason are echoed when the handler returns.
   */
  closing?(socket: S, code: number, reason: string): void;
}

/** What `send` did: written (`sent`), written but the buffer is past its limit (`backpressure`), or not written because the socket is closing (`dropped`). */
export type SendStatus = 'sent' | 'backpressure' | 'dropped';

/** A socket's state, by the names of the WHATWG `readyState` values. */
export type ReadyState = 'open' | 'closing' | 'closed';

/** Timing and buffering settings of a bound socket. */
export interface SocketSettings {
  /** How long to wait for the other side's close frame or TCP close before dropping the connection. Default 5,000 ms. */
  readonly closeTimeout: number;
  /** Buffered bytes past which `send` reports `backpressure`. Default 1 MiB. */
  readonly backpressureLimit: number;
}

/** The default {@link SocketSettings} (frozen): a 5 s close timeout, a 1 MiB backpressure limit. */
export const DEFAULT_SOCKET_SETTINGS: SocketSettings = Object.freeze({
  closeTimeout: 5_000,
  backpressureLimit: 1024 * 1024,
});

/** What happens to a socket whose buffer is over `maxBackpressure`: its messages are dropped, or it is closed with 1013. */
export type BackpressurePolicy = 'drop' | 'close';

/** Counters a socket adds its traffic to: one object per server, shared by its sockets. */
export interface TrafficCounters {
  /** Messages received. */
  messagesIn: number;
  /** Bytes received on the wire (frames and all). */
  bytesIn: number;
  /** Messages written. */
  messagesOut: number;
  /** Bytes written to the wire (frames and all). */
  bytesOut: number;
  /** Messages not written because the socket was over `maxBackpressure`. */
  droppedBackpressure: number;
  /** Messages not written because the socket was closing. */
  droppedClosing: number;
  /** Sockets closed with 1013 by the 'close' policy. */
  slowConsumerCloses: number;
}

/**
 * What a server applies to the sockets of a route: one frozen object per route, shared.
 * The socket enforces `maxBackpressure` itself and counts its traffic in `counters`; the
 * heartbeat and idle timeout are kept here for the server's sweep (`src/server/heartbeat.ts`).
 */
export interface SocketPolicies {
  /** Buffered bytes past which messages are not written (Infinity: no limit). */
  readonly maxBackpressure: number;
  readonly backpressurePolicy: BackpressurePolicy;
  readonly heartbeat: { readonly interval: number; readonly timeout: number } | null;
  /** Milliseconds without a message either way before the socket is closed; 0: never. */
  readonly idleTimeout: number;
  /** Milliseconds without a message either way before zlib contexts are freed (history kept); 0: never. */
  readonly compressionIdle: number;
  readonly counters: TrafficCounters;
}

/** Policies of sockets that have none (clients): no limit, traffic counted nowhere in particular. */
export const NO_POLICIES: SocketPolicies = Object.freeze({
  maxBackpressure: Number.POSITIVE_INFINITY,
  backpressurePolicy: 'drop',
  heartbeat: null,
  idleTimeout: 0,
  compressionIdle: 0,
  counters: {
    messagesIn: 0,
    bytesIn: 0,
    messagesOut: 0,
    bytesOut: 0,
    droppedBackpressure: 0,
    droppedClosing: 0,
    slowConsumerCloses: 0,
  },
});

/** Facts fixed at the handshake. */
export interface SocketInit<Data> {
  readonly role: Role;
  readonly transport: Transport;
  /** The HTTP version the handshake ran over; '1.1' unless told. */
  readonly httpVersion?: HttpVersion | undefined;
  /** Where the peer is, when not the transport's own peer (a client behind a trusted proxy). */
  readonly remote?: { readonly address: string; readonly port: number } | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: a subclass's handlers take the subclass (methods are bivariant)
  readonly handlers: SocketHandlers<Data, any>;
  readonly data: Data;
  readonly protocol: string;
  readonly extensions: string;
  readonly url: string;
  readonly settings: SocketSettings;
  readonly limits: ConnectionOptions;
  /** permessage-deflate parameters, when it was negotiated. */
  readonly deflate?: DeflateParams | null | undefined;
  /** Told when the socket has closed (the server uses it to track its sockets). */
  readonly owner?: SocketOwner | undefined;
  /** The route's policies (servers); none by default. */
  readonly policies?: SocketPolicies | undefined;
}

/** The name of a handler, as reported when it throws (a layer above may add its own). */
export type HandlerName = keyof SocketHandlers;

export interface SocketOwner {
  /** `code` is what the close handler saw. */
  socketClosed(socket: Socket<unknown>, code: number): void;
  /** A handler threw and no `error` handler was told (see `handlerFailed`); the socket fails with 1011. */
  handlerThrew?(socket: Socket<unknown>, handler: string, error: unknown): void;
}
