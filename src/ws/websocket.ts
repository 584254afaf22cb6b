import type { ClientRequest, ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { defineReadyStateConstants } from '../client/ready-state.js';
import type { Socket as WsxSocket } from '../node/socket.js';
import type { ClientOptions } from './client-handshake.js';
import {
  BINARY_TYPES,
  type BinaryType,
  CLOSED,
  CLOSING,
  CONNECTING,
  EMPTY_BUFFER,
  OPEN,
} from './constants.js';
import {
  addEventListener,
  defineEventAttributes,
  type EventListenerLike,
  removeEventListener,
} from './events.js';
import { type ControlCallback, Outbox, type SendCallback } from './outbox.js';
import { toSendable, whenWritten } from './send-data.js';
import { typedEmitter, type WebSocketEvents } from './typed-events.js';
import { blobFailed, closeWebSocket, sendAfterClose, terminateWebSocket } from './websocket-close.js';
import { sendControl } from './websocket-control.js';
import type { WebSocketLike } from './websocket-like.js';
import { bindTransport, connectClient, type SocketSetup } from './websocket-open.js';

// The class's namespace of types (`WebSocket.RawData`...), merged into it there: re-exported so
// that whatever loads this module's declarations loads them too.
export type * from './websocket-types.js';

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
    connectClient(this, address, protocols, options);
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
   * (as ws's `setSocket` does).
   */
  setSocket(socket: Duplex, head: Buffer, setup: SocketSetup): void {
    this._socket = socket;
    this._protocol = setup.protocol ?? '';
    this._extensions = setup.extensions ?? '';
    this._inner = bindTransport(this, socket, head, setup);
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
    closeWebSocket(this, code, reason);
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
    sendControl(this, 'ping', data, mask, cb as SendCallback | undefined);
  }

  /** Sends an unsolicited pong (at most 125 bytes); `cb` is called once it is written. `mask` is ignored. */
  pong(data?: unknown, mask?: boolean | ControlCallback, cb?: ControlCallback): void {
    sendControl(this, 'pong', data, mask, cb as SendCallback | undefined);
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
      sendAfterClose(this, blob ?? toSendable(data), cb);
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
      this._outbox ??= new Outbox((error) => blobFailed(this, error));
      this._outbox.push(blob, size, cb, (bytes) =>
        this.sendNow(bytes ?? sendable!, binary, fin, compress, cb),
      );
      return;
    }
    this.sendNow(toSendable(data), binary, fin, compress, cb);
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

  /** Drops the connection at once; while connecting, aborts the handshake. */
  terminate(): void {
    terminateWebSocket(this);
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
