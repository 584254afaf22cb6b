import { Socket as NetSocket } from 'node:net';
import type { CloseInfo } from '../protocol/close.js';
import {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  type Role,
} from '../protocol/connection.js';
import {
  InternalError,
  type ProtocolViolation,
  UsageError,
  type WebSocketError,
} from '../protocol/errors.js';
import type { DeflateParams } from '../protocol/extensions/negotiation.js';
import { PerMessageDeflate } from '../protocol/extensions/permessage-deflate.js';
import { resolveLimits } from '../protocol/limits.js';
import { socketCloseChannel, socketErrorChannel, socketOpenChannel } from './diagnostics.js';
import { hasTopic, type OwnTopics, topicList } from './own-topics.js';
import type { PreparedMessage } from './prepared.js';
import type { SubscribeOptions, TopicRecovery } from './topic-types.js';
import type { HttpVersion, Transport } from './transport.js';

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
  /** A pong arrived (the answer to a ping, or an unsolicited one). */
  pong?(socket: Socket<Data>, payload: Buffer): void;
  /** The connection failed (protocol violation, limit, handler exception, transport error); `close` follows. */
  error?(socket: Socket<Data>, error: WebSocketError | Error): void;
  /**
   * The peer's close frame arrived (the closing handshake has started, or is complete); `close`
   * follows when TCP closes. Data can no longer be sent. Unless the socket had already sent its
   * close frame, calling `close(code, reason)` here answers with those; otherwise the peer's
   * code and reason are echoed when the handler returns.
   */
  closing?(socket: Socket<Data>, code: number, reason: string): void;
  /**
   * Server sockets: the outcome of `subscribe(topic, { since })`, after the missed messages were
   * written and before any later one; also told when a subscription lost messages that cannot be
   * replayed (`recovered` false).
   */
  recovery?(socket: Socket<Data>, result: TopicRecovery): void;
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

/** What a socket's topic methods use: the server's topic registry (`src/server/topics.ts`). */
export interface TopicHub {
  subscribe(socket: Socket<unknown>, topic: string, options?: SubscribeOptions): boolean;
  unsubscribe(socket: Socket<unknown>, topic: string): boolean;
  publish(
    topic: string,
    data: string | Uint8Array,
    binary: boolean | undefined,
    origin: Socket<unknown> | null,
  ): number;
}

/** Policies of sockets that have none (clients): no limit, traffic counted nowhere in particular. */
const NO_POLICIES: SocketPolicies = Object.freeze({
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
  readonly handlers: SocketHandlers<Data>;
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

/** The name of a handler, as reported when it throws. */
export type HandlerName = keyof SocketHandlers;

export interface SocketOwner {
  /** `code` is what the close handler saw. */
  socketClosed(socket: Socket<unknown>, code: number): void;
  /** Topics, for the sockets of a server. */
  readonly topicHub?: TopicHub;
  /** A handler threw and no `error` handler was told (see `handlerFailed`); the socket fails with 1011. */
  handlerThrew?(socket: Socket<unknown>, handler: HandlerName, error: unknown): void;
}

const kSocket = Symbol('wsx.socket');
/** Frames up to this size are gathered into shared buffers (up to GATHER_BYTES_LIMIT each); larger ones are written as they are. */
const GATHER_FRAME_LIMIT = 4 * 1024 + 16;
/** Gathered bytes are handed on once they reach this much, so a gathered buffer stays small. */
const GATHER_BYTES_LIMIT = 64 * 1024;
type BoundTransport = Transport & { [kSocket]?: Socket<unknown> };

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
  /** The peer's address; on a server behind a trusted proxy (`trustProxy`), the client's. */
  readonly remoteAddress: string;
  /** The peer's port; behind a trusted proxy, the one its header gives, else 0. */
  readonly remotePort: number;
  /** What the WebSocket runs over: '1.1' (RFC 6455 upgrade) or '2' (an HTTP/2 stream, RFC 8441). */
  readonly httpVersion: HttpVersion;

  private readonly connection: Connection;
  private readonly transport: BoundTransport;
  private readonly handlers: SocketHandlers<Data>;
  private readonly settings: SocketSettings;
  private readonly owner: SocketOwner | undefined;
  private flushScheduled = false;
  /** Small frames written this tick, handed to the transport as one buffer (see `write`). */
  private gathered: Uint8Array[] | null = null;
  private gatheredBytes = 0;
  private closeTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private transportError: Error | null = null;
  /** Set after `send` reported backpressure, so `drain` is told. */
  private awaitingDrain = false;
  /** Reading is paused by the application, or because our own writes are backed up. */
  private pausedByUser = false;
  private pausedForWrites = false;
  /** The peer ended its side while `pause` held frames it sent before: ours ends after them. */
  private endAfterHeldInput = false;
  /** @internal The route's policies (shared). */
  readonly policies: SocketPolicies;
  /** @internal Heartbeat sweeps since bytes last arrived from the peer. */
  silentSweeps = 0;
  /** @internal Sweeps since a message went either way (idle timeout, compression release). */
  idleSweeps = 0;
  /** @internal This socket's topics (`src/server/own-topics.ts`); null until its first subscribe. */
  topics: OwnTopics = null;
  /** Prepared frames waiting for an outgoing fragmented message to end. */
  private held: Uint8Array[] | null = null;

  constructor(init: SocketInit<Data>) {
    this.policies = init.policies ?? NO_POLICIES;
    this.data = init.data;
    this.protocol = init.protocol;
    this.extensions = init.extensions;
    this.url = init.url;
    this.handlers = init.handlers;
    this.settings = init.settings;
    this.owner = init.owner;
    this.transport = init.transport as BoundTransport;
    this.remoteAddress = init.remote?.address ?? this.transport.remoteAddress ?? '';
    this.remotePort = init.remote?.port ?? this.transport.remotePort ?? 0;
    this.httpVersion = init.httpVersion ?? '1.1';
    this.connection = new Connection(init.role, this, init.limits);
    if (init.deflate) {
      const maxMessageSize = resolveLimits(init.limits).maxMessageSize;
      this.connection.useExtension(new PerMessageDeflate(init.deflate, maxMessageSize));
    }
    this.transport[kSocket] = this as Socket<unknown>;
    this.transport.setNoDelay?.(true);
    this.transport.on('data', onTransportData);
    this.transport.on('end', onTransportEnd);
    this.transport.on('close', onTransportClose);
    this.transport.on('error', onTransportError);
    this.transport.on('drain', onTransportDrain);
  }

  /** Starts the connection: reports `open`, then processes bytes that came with the handshake. */
  start(head: Buffer | undefined): void {
    if (socketOpenChannel.hasSubscribers) socketOpenChannel.publish({ socket: this });
    this.call(this.handlers.open, 'open');
    if (head !== undefined && head.length > 0) this.connection.receive(head);
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
    if (this.held !== null) for (const frame of this.held) amount += frame.length;
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
   * Sends a message framed once for many sockets (a topic publish builds one and every
   * subscriber writes the same Buffer). Subject to `maxBackpressure` like any message. While
   * a fragmented message is being sent, the frame is held and written right after its final
   * fragment (a frame cannot go between fragments), and 'sent' is returned. Server sockets only.
   */
  sendPrepared(message: PreparedMessage): SendStatus {
    const refused = this.admit();
    if (refused !== null) return refused;
    // With permessage-deflate and no context takeover on this side, the message is compressed
    // once per parameter set for every such socket; otherwise the plain frame goes, which
    // permessage-deflate allows for any message (RFC 7692 §6: RSV1 clear).
    const frame = message.frame(this.connection.sharedCompression);
    if (this.connection.isSendingFragments && this.connection.canWrite()) {
      (this.held ??= []).push(frame);
      return this.sent(true);
    }
    return this.sent(this.connection.sendPrepared(frame));
  }

  // ---- topics (server sockets) ----

  /**
   * Subscribes to `topic`: messages published to it are sent to this socket. False if it already
   * was. With `since` (the last position this client saw, from a topic adapter that keeps
   * history), the messages it missed are written first; the route's `recovery` handler is told
   * how that went.
   */
  subscribe(topic: string, options?: SubscribeOptions): boolean {
    return this.topicHub().subscribe(this as Socket<unknown>, topic, options);
  }

  /** @internal Tells the route's `recovery` handler what became of a subscription's history. */
  topicRecovery(result: TopicRecovery): void {
    this.call(this.handlers.recovery, 'recovery', result);
  }

  /** Unsubscribes from `topic`; false if it was not subscribed. Closing unsubscribes from everything. */
  unsubscribe(topic: string): boolean {
    return this.topicHub().unsubscribe(this as Socket<unknown>, topic);
  }

  /** Whether this socket is subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return hasTopic(this.topics, topic);
  }

  /** The topics this socket is subscribed to. */
  get subscriptions(): string[] {
    return topicList(this.topics);
  }

  /**
   * Publishes to every subscriber of `topic` (this socket too if it is one, unless
   * `exceptSelf`). Types as in `send`. The message is framed once for all of them. Returns
   * how many sockets of this server it was written to.
   */
  publish(
    topic: string,
    data: string | ArrayBufferView | ArrayBuffer,
    options?: { readonly binary?: boolean; readonly exceptSelf?: boolean },
  ): number {
    return this.topicHub().publish(
      topic,
      typeof data === 'string' ? data : toBytes(data),
      options?.binary,
      options?.exceptSelf === true ? (this as Socket<unknown>) : null,
    );
  }

  private topicHub(): TopicHub {
    const hub = this.owner?.topicHub;
    if (hub === undefined) throw new UsageError('topics are available on server sockets only');
    return hub;
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

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.connection.receiveEof();
    this.transport.destroy();
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

  /**
   * Stops reading: nothing more is delivered (no message, ping, pong or close) until `resume`,
   * even frames already read, so a handler can pause between two messages that arrived
   * together. Once the transport's small read buffer is full, the operating system's receive
   * window fills and the peer's writes back up (TCP flow control).
   */
  pause(): void {
    this.pausedByUser = true;
    this.connection.holdInput();
    this.transport.pause();
  }

  /** Delivers what was read meanwhile, then reads from the transport again after `pause`. */
  resume(): void {
    this.pausedByUser = false;
    this.connection.releaseInput();
    if (this.endAfterHeldInput && !this.connection.isInputHeld) {
      this.endAfterHeldInput = false;
      this.endOurSide();
    }
    if (!this.pausedForWrites && !this.pausedByUser) this.transport.resume();
  }

  /** Whether reading is paused, by `pause` or while the socket waits for its writes to drain. */
  get isPaused(): boolean {
    return this.transport.isPaused();
  }

  // ---- ConnectionEvents: called by the protocol core ----

  /** @internal */
  write(data: Uint8Array): void {
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) return;
    this.policies.counters.bytesOut += data.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      transport.cork();
      process.nextTick(flush, this);
    }
    // Every stream write has a fixed cost far above copying a small frame, and each one is
    // an iovec of the flush's writev: small frames are gathered and written as one buffer.
    if (data.length > GATHER_FRAME_LIMIT) {
      this.writeGathered();
      transport.write(data);
      return;
    }
    if (this.gatheredBytes + data.length > GATHER_BYTES_LIMIT) this.writeGathered();
    (this.gathered ??= []).push(data);
    this.gatheredBytes += data.length;
  }

  /** Hands the gathered frames to the transport, in one buffer. */
  private writeGathered(): void {
    const frames = this.gathered;
    if (frames === null || frames.length === 0) return;
    const bytes = this.gatheredBytes;
    this.gatheredBytes = 0;
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) {
      frames.length = 0;
      return;
    }
    if (frames.length === 1) {
      transport.write(frames[0]);
      frames.length = 0;
      return;
    }
    const joined = Buffer.concat(frames, bytes);
    frames.length = 0;
    transport.write(joined);
  }

  /** Bytes written but not yet handed to the operating system. */
  private buffered(): number {
    return this.transport.writableLength + this.gatheredBytes;
  }

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
    this.call(this.handlers.ping, 'ping', payload);
  }

  /** @internal */
  pongReceived(payload: Buffer): void {
    this.call(this.handlers.pong, 'pong', payload);
  }

  /** @internal */
  closeReceived(info: CloseInfo): void {
    // The server closes TCP itself (endTransport); a client waits for it, but not forever.
    if (this.connection.role === 'client') this.armCloseTimer();
    this.call(this.handlers.closing, 'closing', info.code, info.reason);
  }

  /** @internal */
  failed(error: ProtocolViolation): void {
    this.call(this.handlers.error, 'error', error);
  }

  /** @internal */
  endTransport(): void {
    this.writeGathered();
    const transport = this.transport;
    // RFC 6455 §5.5.1: once both close frames have crossed, the server closes TCP at once.
    // When the kernel has taken every byte, closing the descriptor sends them and then the
    // FIN, which saves the shutdown, the wait for the peer's FIN and the timer for it.
    // TLS keeps the orderly end (its close_notify and encrypted tail go through `end`), and so
    // does any other stream, whose own writes may still be under way.
    if (this.connection.wasClean && isPlainTcp(transport)) {
      this.flushNow();
      if (transport.writableLength === 0) {
        transport.destroy();
        return;
      }
      // The rest is still queued: close once the kernel has it all (the close timer bounds the wait).
      transport.once('finish', destroyTransport);
    }
    transport.end();
    this.armCloseTimer();
  }

  // ---- internals ----

  private status(written: boolean): SendStatus {
    if (!written) return 'dropped';
    if (this.buffered() > this.settings.backpressureLimit) {
      this.awaitingDrain = true;
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
    this.awaitingDrain = true;
    policies.counters.droppedBackpressure++;
    if (policies.backpressurePolicy === 'close') {
      policies.counters.slowConsumerCloses++;
      this.held = null;
      this.close(1013, 'slow consumer');
    }
    return 'dropped';
  }

  /** Writes the prepared frames held back while a fragmented message was being sent. */
  private releaseHeld(): void {
    const held = this.held!;
    this.held = null;
    for (const frame of held) {
      if (!this.connection.sendPrepared(frame)) break;
    }
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null || this.closed) return;
    this.closeTimer = setTimeout(onCloseTimeout, this.settings.closeTimeout, this);
    this.closeTimer.unref();
  }

  /**
   * An exception in an application handler fails the connection with 1011. The `error`
   * handler hears of it through that failure (as an InternalError whose `cause` is what was
   * thrown); when there is none, when the connection had already failed, or when the `error`
   * handler is the one that threw, nobody would: the owner is told instead, so that no
   * exception goes unseen.
   */
  private handlerFailed(handler: HandlerName, error: unknown): void {
    const toldByFailure =
      handler !== 'error' && this.handlers.error !== undefined && this.connection.failure === null;
    this.connection.fail(new InternalError(undefined, { cause: error }));
    if (!toldByFailure) this.owner?.handlerThrew?.(this as Socket<unknown>, handler, error);
  }

  private call<A extends unknown[]>(
    handler: ((socket: Socket<Data>, ...args: A) => void) | undefined,
    name: HandlerName,
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

  /** @internal Called once when the transport has closed. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (!this.connection.eofReceived) this.connection.receiveEof();
    this.connection.dispose();
    const result = this.connection.closeResult();
    if (
      this.transportError !== null &&
      this.connection.closeReceived === null &&
      this.connection.failure === null
    ) {
      this.call(this.handlers.error, 'error', this.transportError);
    }
    this.publishEnd(result.code, result.reason);
    this.call(this.handlers.close, 'close', result.code, result.reason);
    this.held = null;
    this.owner?.socketClosed(this as unknown as Socket<unknown>, result.code);
  }

  /** @internal */
  onData(chunk: Buffer): void {
    this.silentSweeps = 0;
    this.policies.counters.bytesIn += chunk.length;
    this.connection.receive(chunk);
    // A peer that sends but does not read (a ping flood, an echo it never collects) would
    // make us queue replies without bound: stop reading until our writes drain. The replies
    // are offered to the kernel first, so that one large reply it takes at once (a 1 MiB
    // echo) does not stall reading.
    const limit = this.settings.backpressureLimit;
    if (this.pausedForWrites || this.buffered() <= limit) return;
    this.flushNow();
    if (this.buffered() > limit) {
      this.pausedForWrites = true;
      this.transport.pause();
    }
  }

  /** @internal */
  onEnd(): void {
    this.connection.receiveEof();
    // Frames read before the end but held by `pause` are answered before our side ends.
    if (this.connection.isInputHeld) this.endAfterHeldInput = true;
    else this.endOurSide();
  }

  private endOurSide(): void {
    // Our side follows: after the closing handshake this is the clean end; otherwise 1006.
    this.writeGathered();
    // Ending twice would build (and drop) an ERR_STREAM_ALREADY_FINISHED with its stack.
    if (!this.transport.writableEnded) this.transport.end();
  }

  /** @internal */
  onError(error: Error): void {
    this.transportError ??= error;
  }

  /** @internal */
  onDrain(): void {
    // The peer has taken everything we had for it: it is alive, even if its pong is still
    // unread because reading was paused for our writes.
    this.silentSweeps = 0;
    if (this.pausedForWrites) {
      this.pausedForWrites = false;
      if (!this.pausedByUser) this.transport.resume();
    }
    if (!this.awaitingDrain) return;
    this.awaitingDrain = false;
    this.call(this.handlers.drain, 'drain');
  }

  /** @internal */
  flushNow(): void {
    // Already done when onData or endTransport flushed early; one uncork per cork.
    if (!this.flushScheduled) return;
    this.flushScheduled = false;
    this.writeGathered();
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
function isPlainTcp(transport: Transport): boolean {
  return transport instanceof NetSocket && !(transport as { encrypted?: boolean }).encrypted;
}
function destroyTransport(this: BoundTransport): void {
  this.destroy();
}
function flush(socket: Socket<unknown>): void {
  socket.flushNow();
}
function onCloseTimeout(socket: Socket<unknown>): void {
  socket.closeTimedOut();
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
