import type { Socket as NetSocket } from 'node:net';
import type { CloseInfo } from '../protocol/close.js';
import {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  type Role,
} from '../protocol/connection.js';
import { InternalError, type ProtocolViolation, type WebSocketError } from '../protocol/errors.js';

/**
 * What an application does with a socket's events. One handlers object is shared by every
 * socket of a route (or client), so a connection costs no closures.
 */
export interface SocketHandlers<Data = unknown> {
  /** The connection is open: messages can be sent. */
  open?(socket: Socket<Data>): void;
  /** A whole message. Text arrives as its UTF-8 bytes (already validated) with `isBinary` false. */
  message?(socket: Socket<Data>, data: Buffer, isBinary: boolean): void;
  /** The transport has closed. `code` is the peer's close code, 1005 if it sent none, or 1006 when no close frame came. */
  close?(socket: Socket<Data>, code: number, reason: string): void;
  /** The transport's buffer has emptied after `send` reported backpressure. */
  drain?(socket: Socket<Data>): void;
  /** A ping arrived; the pong has been sent already. */
  ping?(socket: Socket<Data>, payload: Buffer): void;
  pong?(socket: Socket<Data>, payload: Buffer): void;
  /** The connection failed (protocol violation, limit, handler exception, transport error); `close` follows. */
  error?(socket: Socket<Data>, error: WebSocketError | Error): void;
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

export const DEFAULT_SOCKET_SETTINGS: SocketSettings = Object.freeze({
  closeTimeout: 5_000,
  backpressureLimit: 1024 * 1024,
});

/** Facts fixed at the handshake. */
export interface SocketInit<Data> {
  readonly role: Role;
  readonly transport: NetSocket;
  readonly handlers: SocketHandlers<Data>;
  readonly data: Data;
  readonly protocol: string;
  readonly extensions: string;
  readonly url: string;
  readonly settings: SocketSettings;
  readonly limits: ConnectionOptions;
  /** Told when the socket has closed (the server uses it to track its sockets). */
  readonly owner?: SocketOwner | undefined;
}

export interface SocketOwner {
  socketClosed(socket: Socket<unknown>): void;
}

const kSocket = Symbol('wsx.socket');
type BoundTransport = NetSocket & { [kSocket]?: Socket<unknown> };

/**
 * An open WebSocket connection over a Node transport (TCP or TLS socket), on either side.
 * Bytes read are fed to the protocol core; bytes it produces are written corked, one
 * flush per tick.
 */
export class Socket<Data = unknown> implements ConnectionEvents {
  /** Application data attached at the upgrade (or given to `connect`). */
  data: Data;
  /** The subprotocol in use, or '' when none was agreed. */
  readonly protocol: string;
  /** The extensions in use, as the Sec-WebSocket-Extensions value ('' for none). */
  readonly extensions: string;
  /** The URL the client asked for (request-target on the server, full URL on the client). */
  readonly url: string;
  readonly remoteAddress: string;
  readonly remotePort: number;

  private readonly connection: Connection;
  private readonly transport: BoundTransport;
  private readonly handlers: SocketHandlers<Data>;
  private readonly settings: SocketSettings;
  private readonly owner: SocketOwner | undefined;
  private flushScheduled = false;
  private closeTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private transportError: Error | null = null;
  /** Set after `send` reported backpressure, so `drain` is told. */
  private awaitingDrain = false;

  constructor(init: SocketInit<Data>) {
    this.data = init.data;
    this.protocol = init.protocol;
    this.extensions = init.extensions;
    this.url = init.url;
    this.handlers = init.handlers;
    this.settings = init.settings;
    this.owner = init.owner;
    this.transport = init.transport as BoundTransport;
    this.remoteAddress = this.transport.remoteAddress ?? '';
    this.remotePort = this.transport.remotePort ?? 0;
    this.connection = new Connection(init.role, this, init.limits);
    this.transport[kSocket] = this as Socket<unknown>;
    this.transport.setNoDelay(true);
    this.transport.on('data', onTransportData);
    this.transport.on('end', onTransportEnd);
    this.transport.on('close', onTransportClose);
    this.transport.on('error', onTransportError);
    this.transport.on('drain', onTransportDrain);
  }

  /** Starts the connection: reports `open`, then processes bytes that came with the handshake. */
  start(head: Buffer | undefined): void {
    this.call(this.handlers.open);
    if (head !== undefined && head.length > 0) this.connection.receive(head);
  }

  get readyState(): ReadyState {
    if (this.closed) return 'closed';
    return this.connection.state === 'open' ? 'open' : 'closing';
  }

  /** Whether the socket closed after a complete closing handshake (false while open, or after a failure). */
  get wasClean(): boolean {
    return this.closed && this.connection.wasClean;
  }

  /** Bytes written but not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.transport.writableLength;
  }

  /** Sends a message: a string as text, bytes as binary (unless `binary: false`). */
  send(data: string | ArrayBufferView | ArrayBuffer, options?: { readonly binary?: boolean }): SendStatus {
    if (typeof data === 'string') {
      return options?.binary === true ? this.sendBinary(Buffer.from(data)) : this.sendText(data);
    }
    const bytes = toBytes(data);
    return options?.binary === false ? this.sendText(bytes) : this.sendBinary(bytes);
  }

  /** Sends a text message. Bytes given here must be valid UTF-8; they are sent as they are. */
  sendText(data: string | Uint8Array): SendStatus {
    return this.status(this.connection.sendText(data));
  }

  sendBinary(data: Uint8Array): SendStatus {
    return this.status(this.connection.sendBinary(data));
  }

  /** Sends one fragment of a message; the last one has `fin` true. Other messages must wait until then. */
  sendFragment(
    data: string | Uint8Array,
    options: { readonly binary: boolean; readonly fin: boolean },
  ): SendStatus {
    return this.status(this.connection.sendFragment(options.binary, data, options.fin));
  }

  /** Sends a ping (payload at most 125 bytes). */
  ping(payload?: string | Uint8Array): SendStatus {
    return this.status(this.connection.ping(controlPayload(payload)));
  }

  /** Sends an unsolicited pong, e.g. as a one-way heartbeat. */
  pong(payload?: string | Uint8Array): SendStatus {
    return this.status(this.connection.pong(controlPayload(payload)));
  }

  /**
   * Starts the closing handshake with `code` (1000, 1001-1003, 1007-1014 or 3000-4999) and a
   * reason of at most 123 UTF-8 bytes. `close` is reported when the transport has closed.
   */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.connection.close(code, reason);
    this.armCloseTimer();
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.connection.receiveEof();
    this.transport.destroy();
  }

  // ---- ConnectionEvents: called by the protocol core ----

  /** @internal */
  write(data: Uint8Array): void {
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) return;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      transport.cork();
      process.nextTick(flush, this);
    }
    transport.write(data);
  }

  /** @internal */
  messageReceived(data: Buffer, isBinary: boolean): void {
    const handler = this.handlers.message;
    if (handler === undefined) return;
    try {
      handler(this, data, isBinary);
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  /** @internal */
  pingReceived(payload: Buffer): void {
    this.call(this.handlers.ping, payload);
  }

  /** @internal */
  pongReceived(payload: Buffer): void {
    this.call(this.handlers.pong, payload);
  }

  /** @internal */
  closeReceived(_info: CloseInfo): void {
    // The server closes TCP itself (endTransport); a client waits for it, but not forever.
    if (this.connection.role === 'client') this.armCloseTimer();
  }

  /** @internal */
  failed(error: ProtocolViolation): void {
    this.call(this.handlers.error, error);
  }

  /** @internal */
  endTransport(): void {
    this.transport.end();
    this.armCloseTimer();
  }

  // ---- internals ----

  private status(written: boolean): SendStatus {
    if (!written) return 'dropped';
    if (this.transport.writableLength > this.settings.backpressureLimit) {
      this.awaitingDrain = true;
      return 'backpressure';
    }
    return 'sent';
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null || this.closed) return;
    this.closeTimer = setTimeout(onCloseTimeout, this.settings.closeTimeout, this);
    this.closeTimer.unref();
  }

  /** An exception in an application handler fails the connection with 1011. */
  private handlerFailed(error: unknown): void {
    this.connection.fail(new InternalError(undefined, { cause: error }));
  }

  private call<A extends unknown[]>(
    handler: ((socket: Socket<Data>, ...args: A) => void) | undefined,
    ...args: A
  ): void {
    if (handler === undefined) return;
    try {
      handler(this, ...args);
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  /** @internal Called once when the transport has closed. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (!this.connection.eofReceived) this.connection.receiveEof();
    const result = this.connection.closeResult();
    if (
      this.transportError !== null &&
      this.connection.closeReceived === null &&
      this.connection.failure === null
    ) {
      this.call(this.handlers.error, this.transportError);
    }
    this.call(this.handlers.close, result.code, result.reason);
    this.owner?.socketClosed(this as unknown as Socket<unknown>);
  }

  /** @internal */
  onData(chunk: Buffer): void {
    this.connection.receive(chunk);
  }

  /** @internal */
  onEnd(): void {
    this.connection.receiveEof();
    // Our side follows: after the closing handshake this is the clean end; otherwise 1006.
    this.transport.end();
  }

  /** @internal */
  onError(error: Error): void {
    this.transportError ??= error;
  }

  /** @internal */
  onDrain(): void {
    if (!this.awaitingDrain) return;
    this.awaitingDrain = false;
    this.call(this.handlers.drain);
  }

  /** @internal */
  flushNow(): void {
    this.flushScheduled = false;
    this.transport.uncork();
  }

  /** @internal */
  closeTimedOut(): void {
    this.closeTimer = null;
    this.transport.destroy();
  }
}

// Module-level listeners: `this` is the transport, which points back to its Socket.
function onTransportData(this: BoundTransport, chunk: Buffer): void {
  this[kSocket]!.onData(chunk);
}
function onTransportEnd(this: BoundTransport): void {
  this[kSocket]!.onEnd();
}
function onTransportClose(this: BoundTransport): void {
  this[kSocket]!.finish();
}
function onTransportError(this: BoundTransport, error: Error): void {
  this[kSocket]!.onError(error);
}
function onTransportDrain(this: BoundTransport): void {
  this[kSocket]!.onDrain();
}
function flush(socket: Socket<unknown>): void {
  socket.flushNow();
}
function onCloseTimeout(socket: Socket<unknown>): void {
  socket.closeTimedOut();
}

function toBytes(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function controlPayload(payload: string | Uint8Array | undefined): Uint8Array {
  if (payload === undefined) return EMPTY;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return payload;
}

const EMPTY = new Uint8Array(0);
