/** The WHATWG WebSocket client: its state, and the send and receive paths of each message. */
import type { Socket, SocketHandlers } from '../node/socket.js';
import { checkRequestHeaders } from '../protocol/handshake/client.js';
import { dial } from './dial.js';
import { type MessageData, MessageEvent, type SendData } from './events.js';
import { type Heartbeat, startHeartbeat } from './heartbeat.js';
import { CLOSED, CLOSING, CONNECTING, defineReadyStateConstants, OPEN, type State } from './ready-state.js';
import { dispatchClose, WebSocketEventTarget } from './websocket-event-target.js';
import {
  type BinaryType,
  forwardAbort,
  readArguments,
  type WebSocketEventMap,
  type WebSocketOptions,
} from './websocket-options.js';
import { checkCloseArguments } from './whatwg-checks.js';

/** What waits behind a Blob being read, in order: messages, or the close that followed them. */
type Outgoing =
  | { readonly kind: 'data'; readonly data: string | Uint8Array | Blob; readonly size: number }
  | { readonly kind: 'close'; readonly code: number | undefined; readonly reason: string | undefined };

/**
 * A WebSocket client with the interface of the WHATWG WebSockets Standard, for Node:
 * an EventTarget firing `open`, `message`, `error` and `close` as tasks (never from inside
 * a call), with `on*` handler attributes, `readyState`, `bufferedAmount`, `binaryType`,
 * `send` and `close` as specified.
 *
 * Subprotocols follow the standard, which is stricter than RFC 6455: when some were offered
 * and the server selected none, the connection fails (`error`, then `close` with 1006), as
 * in browsers. `connect()` keeps RFC 6455's rule and opens with `protocol` ''.
 *
 * Node extras, in an options object given as the second or third argument: request headers,
 * TLS options, an HTTP proxy (or `'env'`), `ws+unix:` URLs, redirects (opt-in), limits,
 * `handshakeTimeout`, a ping/pong heartbeat, and `binaryType: 'nodebuffer'`. A header that
 * cannot be sent throws from the constructor (a TypeError naming it).
 *
 * @example
 * ```ts
 * import { WebSocket } from 'wsx';
 * const ws = new WebSocket('ws://127.0.0.1:8080/chat', ['chat.v1'], { pingInterval: 30_000 });
 * ws.addEventListener('open', () => ws.send('hello'));
 * ws.addEventListener('message', (event) => console.log(event.data));
 * ws.addEventListener('close', (event) => console.log('closed', event.code, event.reason));
 * ```
 */
export class WebSocket extends WebSocketEventTarget<WebSocketEventMap> {
  /** `readyState` 0: the opening handshake is under way. */
  static readonly CONNECTING = CONNECTING;
  /** `readyState` 1: open; messages can be sent. */
  static readonly OPEN = OPEN;
  /** `readyState` 2: the closing handshake has started. */
  static readonly CLOSING = CLOSING;
  /** `readyState` 3: closed, or the connection could not be opened. */
  static readonly CLOSED = CLOSED;
  /** `readyState` 0, also on instances as the standard has it. */
  declare readonly CONNECTING: typeof CONNECTING;
  /** `readyState` 1, also on instances. */
  declare readonly OPEN: typeof OPEN;
  /** `readyState` 2, also on instances. */
  declare readonly CLOSING: typeof CLOSING;
  /** `readyState` 3, also on instances. */
  declare readonly CLOSED: typeof CLOSED;

  readonly #url: string;
  readonly #origin: string;
  #readyState: State = CONNECTING;
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType = 'blob';
  #socket: Socket<unknown> | null = null;
  /** Set when the connection failed (rather than closed): `error` fires, and `close` says 1006. */
  #failure: unknown = null;
  readonly #abort = new AbortController();
  #heartbeat: Heartbeat | null = null;
  /** Bytes given to `send` that will never be sent (after close, or refused by a closing socket). */
  #unsent = 0;
  /**
   * Messages handed to the socket and possibly still in its buffer, oldest first: their
   * application bytes, and the bytes they took on the wire (after compression, with framing).
   */
  readonly #inFlight: Array<{ readonly app: number; readonly wire: number }> = [];
  #inFlightApp = 0;
  #inFlightWire = 0;
  /** Messages waiting behind a Blob being read, and their bytes. */
  readonly #outgoing: Outgoing[] = [];
  #outgoingBytes = 0;
  #pumping = false;
  #releaseSignal: (() => void) | null = null;

  /**
   * Starts connecting at once; the outcome comes as events (`open`, or `error` then `close`).
   *
   * @param url - `ws:`, `wss:` (or `http:`, `https:`), or `ws+unix:`/`wss+unix:` for a Unix socket; no fragment.
   * @param protocols - Subprotocols to offer, or the options object.
   * @param options - Node extras: headers, TLS, proxy, limits, timeouts, heartbeat, `binaryType`.
   * @throws DOMException `SyntaxError` for a bad URL or subprotocol list; TypeError for a header
   *   that cannot be sent.
   */
  constructor(
    url: string | URL,
    protocols?: string | Iterable<string> | WebSocketOptions,
    options?: WebSocketOptions,
  ) {
    super();
    const args = readArguments(url, protocols, options);
    options = args.options;
    this.#url = args.url.href;
    this.#origin = args.url.origin;
    // A header that cannot be sent is the caller's mistake: throw now, not as a failed connection.
    checkRequestHeaders(options.headers, options.origin);
    if (options.binaryType !== undefined) this.binaryType = options.binaryType;

    const {
      protocols: _protocols,
      binaryType: _binaryType,
      pingInterval,
      pongTimeout,
      signal,
      ...rest
    } = options;
    this.#releaseSignal = forwardAbort(signal, this.#abort, (reason) => this.#abortHandshake(reason));
    const handlers: SocketHandlers<unknown> = {
      open: (socket) => {
        this.#socket = socket;
        this.#releaseSignal?.();
        if (pingInterval !== undefined && pingInterval > 0)
          this.#heartbeat = startHeartbeat(socket, pingInterval, pongTimeout, (error) => this.#fail(error));
        this.#queue(() => this.#opened(socket));
      },
      message: (socket, data, isBinary) => {
        const payload = isBinary ? data : data.toString('utf8');
        // Each message event is a task of its own; nothing after it is read until that task
        // has run, so what its listeners send goes out before the socket reacts to what
        // follows (a close, or a protocol violation that fails the connection).
        socket.pause();
        this.#queue(() => {
          this.#received(payload);
          socket.resume();
        });
      },
      error: (_socket, error) => {
        this.#failure ??= error;
      },
      close: (socket, code, reason) => {
        this.#heartbeat?.stop();
        const wasClean = socket.wasClean;
        this.#queue(() => this.#closed(wasClean, code, reason));
      },
      pong: () => this.#heartbeat?.pong(),
      // The server started the closing handshake: CLOSING, after the messages before it.
      closing: () =>
        this.#queue(() => {
          if (this.#readyState === OPEN) this.#readyState = CLOSING;
        }),
    };
    // The WHATWG rule, stricter than RFC 6455: offered subprotocols mean one must be selected.
    dial(args.url.dialUrl, {
      ...rest,
      protocols: args.protocols,
      requireProtocol: true,
      handlers,
      signal: this.#abort.signal,
    }).catch((error: unknown) => {
      this.#releaseSignal?.();
      this.#failure ??= error;
      this.#queue(() => this.#closed(false, 1006, ''));
    });
  }

  /** The URL, as parsed (http: and https: become ws: and wss:). */
  get url(): string {
    return this.#url;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): number {
    return this.#readyState;
  }

  /** The subprotocol the server selected ('' until open, or when none). */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions in use, as the server's Sec-WebSocket-Extensions value. */
  get extensions(): string {
    return this.#extensions;
  }

  /** What the connection runs over once open (not in the WHATWG API): '1.1', or '2' with the `http2` option; '' before. */
  get httpVersion(): '' | '1.1' | '2' {
    return this.#socket?.httpVersion ?? '';
  }

  /** How binary messages are delivered (see {@link BinaryType}); default `blob`. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  /** Setting a value other than 'blob', 'arraybuffer' or 'nodebuffer' is ignored, as the standard says. */
  set binaryType(value: BinaryType) {
    if (value === 'blob' || value === 'arraybuffer' || value === 'nodebuffer') this.#binaryType = value;
  }

  /**
   * Bytes of application data queued by `send` and not yet handed to the operating system.
   * After the closing handshake has started, data passed to `send` is counted here and never
   * sent, as the standard says.
   */
  get bufferedAmount(): number {
    // The socket buffers wire bytes, written in order: whatever it no longer holds of ours
    // went out oldest message first. A message counts until all of its bytes have gone.
    const pending = this.#socket === null ? 0 : this.#socket.bufferedAmount;
    let flushed = this.#inFlightWire - pending;
    while (flushed > 0 && this.#inFlight.length > 0 && this.#inFlight[0].wire <= flushed) {
      const message = this.#inFlight.shift()!;
      flushed -= message.wire;
      this.#inFlightWire -= message.wire;
      this.#inFlightApp -= message.app;
    }
    return this.#unsent + this.#outgoingBytes + this.#inFlightApp;
  }

  /**
   * Sends a message: a string as text, a Blob, ArrayBuffer or view as binary. Throws an
   * InvalidStateError DOMException while CONNECTING. Once closing or closed, the data is
   * only counted in `bufferedAmount`.
   */
  send(data: SendData): void {
    if (this.#readyState === CONNECTING) {
      throw new DOMException('WebSocket.send: the connection is not open yet', 'InvalidStateError');
    }
    let payload: string | Uint8Array | Blob;
    let size: number;
    if (data instanceof Blob) {
      payload = data;
      size = data.size;
    } else if (ArrayBuffer.isView(data)) {
      payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      size = data.byteLength;
    } else if (data instanceof ArrayBuffer || isSharedArrayBuffer(data)) {
      payload = new Uint8Array(data);
      size = data.byteLength;
    } else {
      payload = String(data);
      size = Buffer.byteLength(payload, 'utf8');
    }
    if (this.#readyState !== OPEN) {
      this.#unsent += size;
      return;
    }
    if (payload instanceof Blob || this.#outgoing.length > 0) {
      // Keep the order: everything after a Blob waits until its bytes have been read.
      const queued = payload instanceof Uint8Array ? Uint8Array.prototype.slice.call(payload) : payload;
      this.#outgoing.push({ kind: 'data', data: queued, size });
      this.#outgoingBytes += size;
      void this.#pump();
      return;
    }
    this.#write(payload, size);
  }

  /**
   * Starts the closing handshake. `code` must be 1000 or 3000-4999 (InvalidAccessError) and
   * `reason` at most 123 UTF-8 bytes (SyntaxError). Without arguments the close frame carries
   * no status. While CONNECTING, the connection attempt is failed instead.
   */
  close(code?: number, reason?: string): void {
    const { code: closeCode, reason: closeReason } = checkCloseArguments(code, reason);
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#fail(new DOMException('WebSocket closed before the connection was established', 'AbortError'));
      this.#readyState = CLOSING;
      return;
    }
    this.#readyState = CLOSING;
    if (this.#outgoing.length > 0) {
      this.#outgoing.push({ kind: 'close', code: closeCode, reason: closeReason });
      return;
    }
    this.#startClosing(closeCode, closeReason);
  }

  // ---- internals ----

  /** Runs `task` as a task of its own: after the current one, with microtasks in between. */
  #queue(task: () => void): void {
    setImmediate(task);
  }

  #opened(socket: Socket<unknown>): void {
    // close() during CONNECTING failed the connection: no open event, close follows.
    if (this.#readyState !== CONNECTING) return;
    this.#readyState = OPEN;
    this.#protocol = socket.protocol;
    this.#extensions = socket.extensions;
    this.dispatchEvent(new Event('open'));
  }

  #received(payload: Buffer | string): void {
    if (this.#readyState !== OPEN) return;
    let data: MessageData = payload;
    if (typeof payload !== 'string') {
      if (this.#binaryType === 'nodebuffer') data = payload;
      else if (this.#binaryType === 'arraybuffer') data = toArrayBuffer(payload);
      else data = new Blob([payload]);
    }
    this.dispatchEvent(new MessageEvent('message', { data, origin: this.#origin }));
  }

  #closed(wasClean: boolean, code: number, reason: string): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#heartbeat?.stop();
    dispatchClose(this, this.#failure, wasClean, code, reason);
  }

  /** _Fail the WebSocket connection_: drop it (or stop the handshake); `error` and `close` follow. */
  #fail(error: unknown): void {
    this.#failure ??= error;
    if (this.#socket !== null) this.#socket.terminate();
    else this.#abort.abort(error);
  }

  #abortHandshake(reason: unknown): void {
    if (this.#readyState !== CONNECTING) return;
    this.#fail(reason);
    this.#readyState = CLOSING;
  }

  #startClosing(code: number | undefined, reason: string | undefined): void {
    const socket = this.#socket;
    if (socket === null) return;
    if (code === undefined && reason === undefined) socket.closeWithoutStatus();
    else socket.close(code ?? 1000, reason ?? '');
  }

  #write(payload: string | Uint8Array, size: number): void {
    const socket = this.#socket;
    if (socket === null) {
      this.#unsent += size;
      return;
    }
    // Writes within a tick are corked: the growth of the socket's buffer is this message's size on the wire.
    const before = socket.bufferedAmount;
    const status = typeof payload === 'string' ? socket.sendText(payload) : socket.sendBinary(payload);
    if (status === 'dropped') {
      this.#unsent += size;
      return;
    }
    const wire = socket.bufferedAmount - before;
    if (wire > 0) {
      this.#inFlight.push({ app: size, wire });
      this.#inFlightApp += size;
      this.#inFlightWire += wire;
    }
  }

  /** Sends what waits behind Blobs, in order, reading each Blob's bytes when its turn comes. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#outgoing.length > 0) {
        const item = this.#outgoing[0];
        if (item.kind === 'close') {
          this.#outgoing.shift();
          this.#startClosing(item.code, item.reason);
          continue;
        }
        let bytes: string | Uint8Array;
        if (item.data instanceof Blob) {
          try {
            bytes = new Uint8Array(await item.data.arrayBuffer());
          } catch (error) {
            this.#outgoing.length = 0;
            this.#outgoingBytes = 0;
            this.#fail(error);
            return;
          }
        } else {
          bytes = item.data;
        }
        this.#outgoing.shift();
        this.#outgoingBytes -= item.size;
        this.#write(bytes, item.size);
      }
    } finally {
      this.#pumping = false;
    }
  }
}

defineReadyStateConstants(WebSocket);

function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer;
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(data.length);
  new Uint8Array(copy).set(data);
  return copy;
}
