import type { ClientRequest, ClientRequestArgs } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { defineReadyStateConstants } from '../client/ready-state.js';
import { Socket as WsxSocket } from '../node/socket.js';
import type { DeflateParams } from '../protocol/extensions/negotiation.js';
import { abortHandshake, type ClientOptions, startClientHandshake } from './client-handshake.js';
import {
  BINARY_TYPES,
  type BinaryType,
  CLOSED,
  CLOSING,
  CONNECTING,
  EMPTY_BUFFER,
  OPEN,
  READY_STATE_NAMES,
  WS_CLOSE_TIMEOUT,
} from './constants.js';
import {
  addEventListener,
  defineEventAttributes,
  type EventListenerLike,
  removeEventListener,
} from './events.js';
import { type ControlCallback, Outbox, type SendCallback } from './outbox.js';
import { checkCloseArguments, controlPayload, toSendable, whenWritten } from './send-data.js';
import { SOCKET_HANDLERS } from './socket-handlers.js';
import { typedEmitter, type WebSocketEvents } from './typed-events.js';
import type { WebSocketLike } from './websocket-like.js';

/**
 * What the server (or the client's handshake) hands a WebSocket with its transport. Code written
 * for ws calls `setSocket` with ws's options (`{ maxPayload }`, as @fastify/websocket's
 * `injectWS` does): then there is no subprotocol and no extension.
 */
export interface SocketSetup {
  readonly maxPayload: number;
  readonly maxFragments?: number | undefined;
  readonly protocol?: string | undefined;
  /** Names of the extensions in use, as ws lists them ('permessage-deflate' or ''). */
  readonly extensions?: string | undefined;
  readonly deflate?: DeflateParams | null | undefined;
  readonly closeTimeout?: number | undefined;
}

/** The shape of ws's `WebSocket` (client and server side), on wsx's connection and Node binding. */
export class WebSocket extends typedEmitter<WebSocketEvents>() implements WebSocketLike {
  /** The handshake is under way. */
  declare static readonly CONNECTING: 0;
  /** Messages can be sent. */
  declare static readonly OPEN: 1;
  /** The closing handshake has started. */
  declare static readonly CLOSING: 2;
  /** The connection has closed. */
  declare static readonly CLOSED: 3;
  // Set by index.ts, as ws has them (types only here, so that this module does not load them).
  /** {@link WebSocketServer}, by ws's older name. */
  declare static Server: typeof import('./server.js').WebSocketServer;
  /** The server class. */
  declare static WebSocketServer: typeof import('./server.js').WebSocketServer;
  /** This class. */
  declare static WebSocket: typeof WebSocket;
  /** A Duplex stream over a WebSocket. */
  declare static createWebSocketStream: typeof import('./stream.js').createWebSocketStream;

  /** The handshake is under way. */
  declare readonly CONNECTING: 0;
  /** Messages can be sent. */
  declare readonly OPEN: 1;
  /** The closing handshake has started. */
  declare readonly CLOSING: 2;
  /** The connection has closed. */
  declare readonly CLOSED: 3;

  /** @internal The transport (ws's name, read by code written for ws). */
  _socket: Duplex | null = null;
  /** @internal wsx's socket over the transport. */
  _inner: WsxSocket<WebSocket> | null = null;
  /** @internal The handshake request of a client that is still connecting. */
  _req: ClientRequest | null = null;
  /** @internal */
  _isServer: boolean;
  /** @internal */
  _readyState: number = CONNECTING;
  /** @internal */
  _closeCode = 1006;
  /** @internal */
  _closeMessage: Buffer = EMPTY_BUFFER;
  /** @internal */
  _closeFrameReceived = false;
  /** @internal */
  _closeFrameSent = false;
  /** @internal Bytes given to `send` while there was no transport to count them. */
  _bufferedAmount = 0;
  /** @internal */
  _redirects = 0;
  /** @internal */
  _url: string | undefined = undefined;
  /** @internal Set once 'error' was emitted for a failed handshake. */
  _errorEmitted = false;
  private _binaryType: BinaryType = 'nodebuffer';
  private _paused = false;
  private _protocol = '';
  private _extensions = '';

  /** A server-side socket waiting for its transport (the server passes its options, as ws's does). */
  constructor(address: null, protocols?: undefined, options?: object);
  /** A client connecting to `address`; options other than ws's go to `http(s).request`. */
  constructor(address: string | URL, options?: ClientOptions | ClientRequestArgs);
  /** A client connecting to `address`, offering `protocols`. */
  constructor(
    address: string | URL,
    protocols?: string | readonly string[],
    options?: ClientOptions | ClientRequestArgs,
  );
  constructor(
    address: string | URL | null,
    protocols?: string | readonly string[] | ClientOptions | ClientRequestArgs,
    options?: ClientOptions | ClientRequestArgs,
  ) {
    super();
    if (address === null) {
      this._isServer = true;
      return;
    }
    this._isServer = false;
    let offered: readonly string[];
    if (protocols === undefined) offered = [];
    else if (Array.isArray(protocols)) offered = protocols;
    else if (typeof protocols === 'object' && protocols !== null) {
      options = protocols as ClientOptions;
      offered = [];
    } else offered = [protocols as string];
    startClientHandshake(this, address, offered, (options ?? {}) as ClientOptions);
  }

  /** How binary messages are given to `message` listeners: 'nodebuffer' (default), 'arraybuffer', 'fragments' or 'blob'. */
  get binaryType(): BinaryType {
    return this._binaryType;
  }
  /** Other values are ignored. */
  set binaryType(type: BinaryType) {
    if (BINARY_TYPES.includes(type)) this._binaryType = type;
  }

  /** Bytes sent but not yet handed to the operating system (with messages queued behind a Blob, and those sent after closing). */
  get bufferedAmount(): number {
    const queued = this._outbox === null ? 0 : this._outbox.bytes;
    return (this._inner === null ? 0 : this._inner.bufferedAmount) + this._bufferedAmount + queued;
  }

  /** Names of the negotiated extensions, comma-separated. */
  get extensions(): string {
    return this._extensions;
  }

  /** Whether `pause` stopped reading. */
  get isPaused(): boolean {
    return this._paused;
  }

  /** The subprotocol agreed ('' for none). */
  get protocol(): string {
    return this._protocol;
  }

  /** CONNECTING, OPEN, CLOSING or CLOSED. */
  get readyState(): 0 | 1 | 2 | 3 {
    const state = this._readyState as 0 | 1 | 2 | 3;
    if (state === OPEN && this._inner !== null && this._inner.readyState !== 'open') return CLOSING;
    return state;
  }

  /** The URL a client connected to (undefined on the server side, as with ws). */
  get url(): string {
    return this._url as string;
  }

  /** @internal Whether both close frames crossed (for `CloseEvent.wasClean`). */
  get closedCleanly(): boolean {
    return this._closeFrameReceived && this._closeFrameSent;
  }

  /**
   * @internal Binds the connection to its transport once the handshake is done, and emits `open`
   * (as ws's `setSocket` does). Bytes that came with the handshake are put back on the transport,
   * so that they are read after the `connection` (server) or `open` (client) listeners ran.
   */
  setSocket(socket: Duplex, head: Buffer, setup: SocketSetup): void {
    const maxPayload = setup.maxPayload > 0 ? setup.maxPayload : Number.MAX_SAFE_INTEGER;
    this._socket = socket;
    this._protocol = setup.protocol ?? '';
    this._extensions = setup.extensions ?? '';
    if (head.length > 0) socket.unshift(head);
    const transport = socket as NetSocket;
    if (typeof transport.setTimeout === 'function') transport.setTimeout(0);
    if (typeof transport.setNoDelay !== 'function')
      (transport as { setNoDelay?: () => void }).setNoDelay = noop;
    this._inner = new WsxSocket<WebSocket>({
      role: this._isServer ? 'server' : 'client',
      transport,
      handlers: SOCKET_HANDLERS,
      data: this,
      protocol: this._protocol,
      extensions: this._extensions,
      url: this._url ?? '',
      settings: { closeTimeout: setup.closeTimeout ?? WS_CLOSE_TIMEOUT, backpressureLimit: 1024 * 1024 },
      limits: {
        maxMessageSize: maxPayload,
        maxFrameSize: maxPayload,
        // ws reads 0 as "no limit"; wsx keeps its default then (a limit is never lifted by accident).
        ...(setup.maxFragments ? { maxFragments: setup.maxFragments } : {}),
      },
      deflate: setup.deflate ?? null,
    });
    this._readyState = OPEN;
    this._inner.start(undefined);
    this.emit('open');
  }

  /** @internal Emits `close` once, with the code and reason of the closing handshake. */
  emitClose(): void {
    if (this._readyState === CLOSED) return;
    this._outbox?.abandon(new Error('The socket was closed while the blob was being read'));
    this._readyState = CLOSED;
    this.emit('close', this._closeCode, this._closeMessage);
  }

  /**
   * Starts the closing handshake. While connecting, the handshake is aborted instead. A code
   * must be one that may be sent; the reason is at most 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string | Buffer): void {
    const state = this.readyState;
    if (state === CLOSED) return;
    if (state === CONNECTING) {
      abortHandshake(this, this._req, 'WebSocket was closed before the connection was established');
      return;
    }
    if (state === CLOSING && (this._closeFrameSent || this._inner === null)) return;
    const reasonText = checkCloseArguments(code, reason);
    this._readyState = CLOSING;
    if (this._closeFrameSent) return;
    this._closeFrameSent = true;
    if (this._outbox?.busy) this._outbox.push(null, 0, undefined, () => this.closeNow(code, reasonText));
    else this.closeNow(code, reasonText);
  }

  private closeNow(code: number | undefined, reason: string): void {
    const inner = this._inner!;
    if (code === undefined) inner.closeWithoutStatus();
    else inner.close(code, reason);
    // ws writes the close frame at once: it is not left for the end of the tick.
    inner.flushNow();
  }

  /** @internal Messages waiting behind a Blob being read; null until the first Blob. */
  _outbox: Outbox | null = null;

  /** Stops reading from the connection (the peer's writes back up); `resume` reads again. */
  pause(): void {
    if (this._readyState === CONNECTING || this.readyState === CLOSED) return;
    this._paused = true;
    this._inner!.pause();
  }

  /** Reads again after `pause`. */
  resume(): void {
    if (this._readyState === CONNECTING || this.readyState === CLOSED) return;
    this._paused = false;
    if (!this._receivingHalted) this._inner!.resume();
  }

  /** @internal Set once the peer's close frame arrived: nothing more is read. */
  _receivingHalted = false;

  /** Sends a ping (at most 125 bytes); `cb` is called once it is written. `mask` is ignored. */
  ping(data?: unknown, mask?: boolean | ControlCallback, cb?: ControlCallback): void {
    this.control('ping', data, mask, cb as SendCallback | undefined);
  }

  /** Sends an unsolicited pong (at most 125 bytes); `cb` is called once it is written. `mask` is ignored. */
  pong(data?: unknown, mask?: boolean | ControlCallback, cb?: ControlCallback): void {
    this.control('pong', data, mask, cb as SendCallback | undefined);
  }

  private control(kind: 'ping' | 'pong', data: unknown, mask: unknown, cb: SendCallback | undefined): void {
    if (this._readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof data === 'function') {
      cb = data as SendCallback;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask as SendCallback;
    }
    if (typeof data === 'number') data = data.toString();
    const blob = data instanceof Blob ? data : null;
    if (blob !== null && blob.size > 125)
      throw new RangeError('The data size must not be greater than 125 bytes');
    const payload = blob === null ? controlPayload(data) : null;
    if (this.readyState !== OPEN) {
      this.sendAfterClose(blob ?? payload!, cb);
      return;
    }
    const run = (bytes: Uint8Array | null) => {
      if (kind === 'ping') this._inner!.ping(bytes ?? payload!);
      else this._inner!.pong(bytes ?? payload!);
      if (cb !== undefined) whenWritten(this._socket!, cb);
    };
    if (blob !== null || this._outbox?.busy) {
      this._outbox ??= new Outbox((error) => this.blobFailed(error));
      this._outbox.push(blob, blob?.size ?? payload!.length, cb, run);
    } else {
      run(null);
    }
  }

  /**
   * Sends a message. `binary` defaults to whether `data` is not a string; `fin: false` sends a
   * fragment (the next sends continue the message); `compress: false` sends it uncompressed.
   */
  send(
    data: unknown,
    options?: { binary?: boolean; compress?: boolean; fin?: boolean; mask?: boolean } | SendCallback,
    cb?: SendCallback,
  ): void {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this._readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof data === 'number') data = data.toString();
    // Decided before an empty value becomes an empty Buffer: send('') is an empty text message.
    const binary = options?.binary ?? typeof data !== 'string';
    if (!data) data = EMPTY_BUFFER;
    const blob = data instanceof Blob ? data : null;
    if (this.readyState !== OPEN) {
      this.sendAfterClose(blob ?? toSendable(data), cb);
      return;
    }
    const fin = options?.fin ?? true;
    const compress = options?.compress === false ? false : undefined;
    if (blob !== null || this._outbox?.busy) {
      const sendable = blob === null ? toSendable(data) : null;
      const size =
        blob !== null
          ? blob.size
          : typeof sendable === 'string'
            ? Buffer.byteLength(sendable)
            : sendable!.length;
      this._outbox ??= new Outbox((error) => this.blobFailed(error));
      this._outbox.push(blob, size, cb, (bytes) =>
        this.sendNow(bytes ?? sendable!, binary, fin, compress, cb),
      );
      return;
    }
    this.sendNow(toSendable(data), binary, fin, compress, cb);
  }

  /** A Blob given to `send` could not be read: the connection ends, as with ws. */
  private blobFailed(error: Error): void {
    if (this._readyState === CLOSED) return;
    this._readyState = CLOSING;
    this._socket?.end();
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    this.emit('error', error);
  }

  private sendNow(
    sendable: string | Uint8Array,
    binary: boolean,
    fin: boolean,
    compress: false | undefined,
    cb: SendCallback | undefined,
  ): void {
    const inner = this._inner!;
    if (!fin || this._fragmenting) {
      this._fragmenting = !fin;
      inner.sendFragment(sendable, { binary: this._fragmentBinary ?? binary, fin });
      this._fragmentBinary = fin ? undefined : (this._fragmentBinary ?? binary);
    } else if (binary) {
      inner.sendBinary(typeof sendable === 'string' ? Buffer.from(sendable) : sendable, compress);
    } else {
      inner.sendText(sendable, compress);
    }
    if (cb !== undefined) whenWritten(this._socket!, cb);
  }

  /** An outgoing fragmented message is in progress, and of which type. */
  private _fragmenting = false;
  private _fragmentBinary: boolean | undefined = undefined;

  private sendAfterClose(data: string | Uint8Array | Blob, cb: SendCallback | undefined): void {
    this._bufferedAmount +=
      data instanceof Blob ? data.size : typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (cb === undefined) return;
    const state = this.readyState;
    process.nextTick(
      cb,
      new Error(`WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`),
    );
  }

  /** Drops the connection at once; while connecting, aborts the handshake. */
  terminate(): void {
    const state = this.readyState;
    if (state === CLOSED) return;
    if (state === CONNECTING) {
      abortHandshake(this, this._req, 'WebSocket was closed before the connection was established');
      return;
    }
    this._readyState = CLOSING;
    this._inner?.terminate();
  }

  /** Adds a DOM-style listener of 'open', 'message', 'close' or 'error' (other types are ignored, as in ws). */
  addEventListener(type: string, listener: EventListenerLike, options?: { once?: boolean }): void {
    addEventListener(this, type, listener, options);
  }

  /** Removes a listener added by `addEventListener`. */
  removeEventListener(type: string, listener: EventListenerLike): void {
    removeEventListener(this, type, listener);
  }

  /** The 'open' listener set as an attribute. */
  declare onopen: ((event: WebSocket.Event) => void) | null;
  /** The 'message' listener set as an attribute. */
  declare onmessage: ((event: WebSocket.MessageEvent) => void) | null;
  /** The 'close' listener set as an attribute. */
  declare onclose: ((event: WebSocket.CloseEvent) => void) | null;
  /** The 'error' listener set as an attribute. */
  declare onerror: ((event: WebSocket.ErrorEvent) => void) | null;
}

defineReadyStateConstants(WebSocket);
for (const name of [
  'binaryType',
  'bufferedAmount',
  'extensions',
  'isPaused',
  'protocol',
  'readyState',
  'url',
]) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
defineEventAttributes(WebSocket.prototype);

function noop(): void {}

/**
 * The types ws's users reach through the class (`WebSocket.RawData`, `WebSocket.ServerOptions`...),
 * as @types/ws declares them.
 */
export declare namespace WebSocket {
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
