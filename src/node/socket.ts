import type { CloseInfo } from '../protocol/close.js';
import type { Role } from '../protocol/connection-types.js';
import { InternalError, type ProtocolViolation } from '../protocol/errors.js';
import { PerMessageDeflate } from '../protocol/extensions/permessage-deflate.js';
import type { SharedCompression } from '../protocol/extensions/shared-compression.js';
import { resolveLimits } from '../protocol/limits.js';
import { ClosingSocket, newExtras } from './closing.js';
import { socketCloseChannel, socketErrorChannel, socketOpenChannel } from './diagnostics.js';
import { addressText, type CompactAddress, compactAddress, peerOf } from './peer-address.js';
import type {
  HandlerName,
  ReadyState,
  SendStatus,
  SocketHandlers,
  SocketInit,
  SocketOwner,
} from './socket-types.js';
import { disableNagle, type HttpVersion } from './transport.js';
import { Flag } from './writes.js';

export {
  type BackpressurePolicy,
  DEFAULT_SOCKET_SETTINGS,
  type HandlerName,
  type ReadyState,
  type SendStatus,
  type SocketHandlers,
  type SocketInit,
  type SocketOwner,
  type SocketPolicies,
  type SocketSettings,
  type TrafficCounters,
} from './socket-types.js';
export type { HttpVersion, Transport } from './transport.js';

/**
 * An open WebSocket connection over a Node transport (TCP or TLS socket, or any Duplex), on
 * either side: the application's calls and events. Reading, writing and closing the transport
 * are the classes it builds on (`reading.ts`, `writes.ts`, `closing.ts`); a server extends it
 * with what it needs.
 */
export class Socket<Data = unknown> extends ClosingSocket {
  /** Application data attached at the upgrade (or given to `connect`). */
  data: Data;

  /** The URL the client asked for (request-target on the server, full URL on the client). */
  readonly url: string;
  /** The peer's port; behind a trusted proxy, the one its header gives, else 0. */
  readonly remotePort: number;
  /** The peer's address, read at the start (see `peerOf`) and kept small until asked for. */
  private peer: CompactAddress;
  /** @internal Sweeps since a message went either way (idle timeout, compression release). */
  idleSweeps = 0;

  constructor(init: SocketInit<Data>) {
    super(init as SocketInit<unknown>);
    this.data = init.data;

    this.url = init.url;
    const remote = init.remote ?? peerOf(this.transport);
    this.peer = compactAddress(remote.address);
    this.remotePort = remote.port;
    if (init.deflate) {
      const maxMessageSize = resolveLimits(init.limits).maxMessageSize;
      this.connection.useExtension(new PerMessageDeflate(init.deflate, maxMessageSize));
    }
    disableNagle(this.transport);
  }

  /** Starts the connection: reports `open`, then processes bytes that came with the handshake. */
  start(head: Buffer | undefined): void {
    if (socketOpenChannel.hasSubscribers) socketOpenChannel.publish({ socket: this });
    this.callHandler(this.handlers.open, 'open');
    if (head !== undefined && head.length > 0) this.connection.receive(head);
  }

  /** The peer's address; on a server behind a trusted proxy (`trustProxy`), the client's. Known after a reset too. */
  get remoteAddress(): string {
    const peer = this.peer;
    if (typeof peer === 'string') return peer;
    const text = addressText(peer);
    this.peer = text;
    return text;
  }

  /** The subprotocol in use, or '' when none was agreed. */
  get protocol(): string {
    return this.binding.protocol;
  }

  /** The extensions in use, as the Sec-WebSocket-Extensions value ('' for none). */
  get extensions(): string {
    return this.binding.extensions;
  }

  /** What the WebSocket runs over: '1.1' (RFC 6455 upgrade) or '2' (an HTTP/2 stream, RFC 8441). */
  get httpVersion(): HttpVersion {
    return this.binding.httpVersion;
  }

  /** @internal */
  protected get handlers(): SocketHandlers<Data> {
    return this.binding.handlers;
  }

  /** @internal */
  protected get owner(): SocketOwner | undefined {
    return this.binding.owner;
  }

  /** Prepared frames waiting for an outgoing fragmented message to end. */
  private get held(): Uint8Array[] | null {
    return this.extras === null ? null : this.extras.held;
  }

  /** Which end of the connection this is: a server's socket or a client's. */
  get role(): Role {
    return this.connection.role;
  }

  /** `open`, `closing` once a close frame went either way (or the connection failed), `closed` once the transport is gone. */
  get readyState(): ReadyState {
    if (this.closed) return 'closed';
    return this.connection.state === 'open' ? 'open' : 'closing';
  }

  /** Whether the socket closed after a complete closing handshake (false while open, or after a failure). */
  get wasClean(): boolean {
    return this.closed && this.connection.wasClean;
  }

  /** Bytes written but not yet handed to the operating system (with prepared frames held back by a fragmented message). */
  get bufferedAmount(): number {
    let amount = this.buffered();
    const held = this.held;
    if (held !== null) for (const frame of held) amount += frame.length;
    return amount;
  }

  /**
   * Sends a message: a string as text, bytes as binary (unless `binary: false`). With
   * permessage-deflate, `compress` overrides the size threshold for this message (false:
   * not compressed, which still sets RSV1 on a socket without context takeover).
   */
  send(
    data: string | ArrayBufferView | ArrayBuffer,
    options?: { readonly binary?: boolean; readonly compress?: boolean },
  ): SendStatus {
    const compress = options?.compress;
    if (typeof data === 'string') {
      return options?.binary === true
        ? this.sendBinary(Buffer.from(data), compress)
        : this.sendText(data, compress);
    }
    const bytes = toBytes(data);
    return options?.binary === false ? this.sendText(bytes, compress) : this.sendBinary(bytes, compress);
  }

  /** Sends a text message. Bytes given here must be valid UTF-8; they are sent as they are. */
  sendText(data: string | Uint8Array, compress?: boolean): SendStatus {
    return this.admit() ?? this.sent(this.connection.sendText(data, compress));
  }

  /** Sends a binary message; `compress` overrides the compression threshold for this one. */
  sendBinary(data: Uint8Array, compress?: boolean): SendStatus {
    return this.admit() ?? this.sent(this.connection.sendBinary(data, compress));
  }

  /**
   * Sends one fragment of a message; the last one has `fin` true. Other messages must wait until then.
   * Fragments are never dropped by `maxBackpressure` (the rest of a message would then arrive as a
   * message of its own); under the 'close' policy, the first fragment of a message closes a socket
   * over the limit.
   */
  sendFragment(
    data: string | Uint8Array,
    options: { readonly binary: boolean; readonly fin: boolean },
  ): SendStatus {
    const refused =
      this.connection.isSendingFragments || this.policies.backpressurePolicy === 'drop' ? null : this.admit();
    if (refused !== null) return refused;
    const written = this.connection.sendFragment(options.binary, data, options.fin);
    if (!options.fin) return this.status(written);
    if (this.held !== null) this.releaseHeld();
    return this.sent(written);
  }

  /**
   * @internal The compression a frame framed once for many sockets must use on this one: with
   * permessage-deflate and no context takeover on this side, one compressed frame per parameter
   * set; null for the plain frame, which permessage-deflate allows for any message (RFC 7692 §6).
   */
  get sharedCompression(): SharedCompression | null {
    return this.connection.sharedCompression;
  }

  /**
   * Sends a whole frame built once for many sockets (a broadcast writes the same bytes to every
   * one; see `sharedCompression`). Subject to `maxBackpressure` like any message. While a
   * fragmented message is being sent, the frame is held and written right after its final
   * fragment (a frame cannot go between fragments), and 'sent' is returned.
   */
  sendFrame(frame: Uint8Array): SendStatus {
    const refused = this.admit();
    if (refused !== null) return refused;
    if (this.connection.isSendingFragments && this.connection.canWrite()) {
      ((this.extras ??= newExtras()).held ??= []).push(frame);
      return this.sent(true);
    }
    return this.sent(this.connection.sendPrepared(frame));
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

  /** @internal Frees what the socket can rebuild on its next message (zlib contexts); for the server's sweep. */
  hibernate(): boolean {
    return this.connection.hibernate();
  }

  /**
   * Starts the closing handshake with a close frame that carries no status code (the peer
   * sees 1005), as the WHATWG `close()` does when called without arguments.
   */
  closeWithoutStatus(): void {
    if (this.closed) return;
    this.connection.close();
    this.armCloseTimer();
  }

  // ---- ConnectionEvents: called by the protocol core (`write` and `endTransport` are below) ----

  /** @internal */
  messageReceived(data: Buffer, isBinary: boolean): void {
    this.policies.counters.messagesIn++;
    this.idleSweeps = 0;
    const handler = this.handlers.message;
    if (handler === undefined) return;
    try {
      handler(this, data, isBinary);
    } catch (error) {
      this.handlerFailed('message', error);
    }
  }

  /** @internal */
  pingReceived(payload: Buffer): void {
    this.callHandler(this.handlers.ping, 'ping', payload);
  }

  /** @internal */
  pongReceived(payload: Buffer): void {
    this.callHandler(this.handlers.pong, 'pong', payload);
  }

  /** @internal */
  closeReceived(info: CloseInfo): void {
    // The server closes TCP itself (endTransport); a client waits for it, but not forever.
    if (this.connection.role === 'client') this.armCloseTimer();
    this.callHandler(this.handlers.closing, 'closing', info.code, info.reason);
  }

  /** @internal */
  failed(error: ProtocolViolation): void {
    this.callHandler(this.handlers.error, 'error', error);
  }

  // ---- transport events (see reading.ts) ----

  /** @internal Called once when the transport has closed. */
  finish(): void {
    if (!this.markClosed()) return;
    if (!this.connection.eofReceived) this.connection.receiveEof();
    this.connection.dispose();
    const result = this.connection.closeResult();
    if (
      this.transportError !== null &&
      this.connection.closeReceived === null &&
      this.connection.failure === null
    ) {
      this.callHandler(this.handlers.error, 'error', this.transportError);
    }
    this.publishEnd(result.code, result.reason);
    this.callHandler(this.handlers.close, 'close', result.code, result.reason);
    if (this.extras !== null) this.extras.held = null;
    this.owner?.socketClosed(this as Socket<unknown>, result.code);
  }

  /** @internal */
  onDrain(): void {
    this.resumeAfterDrain();
    if ((this.flags & Flag.AwaitingDrain) === 0) return;
    this.flags &= ~Flag.AwaitingDrain;
    this.callHandler(this.handlers.drain, 'drain');
  }

  // ---- internals ----

  private status(written: boolean): SendStatus {
    if (!written) return 'dropped';
    if (this.buffered() > this.settings.backpressureLimit) {
      this.flags |= Flag.AwaitingDrain;
      return 'backpressure';
    }
    return 'sent';
  }

  /** The status of a whole message, counted. */
  private sent(written: boolean): SendStatus {
    const counters = this.policies.counters;
    if (written) {
      counters.messagesOut++;
      this.idleSweeps = 0;
    } else {
      counters.droppedClosing++;
    }
    return this.status(written);
  }

  /**
   * Applies `maxBackpressure` before a message is written: null lets it through; otherwise
   * the message is dropped ('drop'), or the socket is closed with 1013 ('close').
   */
  private admit(): SendStatus | null {
    const policies = this.policies;
    if (this.buffered() <= policies.maxBackpressure || !this.connection.canWrite()) return null;
    this.flags |= Flag.AwaitingDrain;
    policies.counters.droppedBackpressure++;
    if (policies.backpressurePolicy === 'close') {
      policies.counters.slowConsumerCloses++;
      if (this.extras !== null) this.extras.held = null;
      this.close(1013, 'slow consumer');
    }
    return 'dropped';
  }

  /** Writes the prepared frames held back while a fragmented message was being sent. */
  private releaseHeld(): void {
    const held = this.held!;
    this.extras!.held = null;
    for (const frame of held) {
      if (!this.connection.sendPrepared(frame)) break;
    }
  }

  /**
   * An exception in an application handler fails the connection with 1011. The `error`
   * handler hears of it through that failure (as an InternalError whose `cause` is what was
   * thrown); when there is none, when the connection had already failed, or when the `error`
   * handler is the one that threw, nobody would: the owner is told instead, so that no
   * exception goes unseen.
   */
  private handlerFailed(handler: string, error: unknown): void {
    const toldByFailure =
      handler !== 'error' && this.handlers.error !== undefined && this.connection.failure === null;
    this.connection.fail(new InternalError(undefined, { cause: error }));
    if (!toldByFailure) this.owner?.handlerThrew?.(this as Socket<unknown>, handler, error);
  }

  /** @internal Calls an application handler; what it throws fails the connection (see `handlerFailed`). */
  protected callHandler<A extends unknown[]>(
    // biome-ignore lint/suspicious/noExplicitAny: a subclass's handlers take the subclass
    handler: ((socket: any, ...args: A) => void) | undefined,
    name: HandlerName | (string & {}),
    ...args: A
  ): void {
    if (handler === undefined) return;
    try {
      handler(this, ...args);
    } catch (error) {
      this.handlerFailed(name, error);
    }
  }

  /** Tells diagnostics subscribers how the socket ended (see `diagnostics.ts`). */
  private publishEnd(code: number, reason: string): void {
    const error = this.connection.failure ?? this.transportError;
    if (error !== null && socketErrorChannel.hasSubscribers)
      socketErrorChannel.publish({ socket: this, error });
    if (socketCloseChannel.hasSubscribers) {
      socketCloseChannel.publish({ socket: this, code, reason, wasClean: this.connection.wasClean });
    }
  }
}

/** The bytes of a view or buffer, as a Uint8Array over the same memory. */
export function toBytes(data: ArrayBufferView | ArrayBuffer): Uint8Array {
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
