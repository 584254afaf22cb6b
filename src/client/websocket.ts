import type { Socket, SocketHandlers } from '../node/socket.js';
import { MAX_CLOSE_REASON_BYTES } from '../protocol/close.js';
import { checkRequestHeaders } from '../protocol/handshake/client.js';
import { isToken } from '../protocol/handshake/headers.js';
import { type DialOptions, dial } from './dial.js';
import {
  CloseEvent,
  ErrorEvent,
  type EventHandler,
  HandlerAttributes,
  type MessageData,
  MessageEvent,
  type SendData,
  TypedEventTarget,
} from './events.js';
import { Heartbeat } from './heartbeat.js';
import { CLOSED, CLOSING, CONNECTING, defineReadyStateConstants, OPEN, type State } from './ready-state.js';
import { parseClientUrl } from './url.js';

/**
 * How binary messages are delivered: `blob` (the standard's default), `arraybuffer`, or
 * `nodebuffer` (a Node Buffer, without a copy).
 */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** Node-only options: the second (or third) argument of the constructor. */
export interface WebSocketOptions
  extends Omit<DialOptions<never>, 'handlers' | 'data' | 'protocols' | 'requireProtocol'> {
  /**
   * Subprotocols to offer, as the standard's second argument. As the standard says, the
   * connection fails when some were offered and the server selected none.
   */
  readonly protocols?: string | readonly string[];
  /** The initial `binaryType` (default 'blob'). */
  readonly binaryType?: BinaryType;
  /**
   * Client heartbeat: send a ping every `pingInterval` ms; when its pong has not come back
   * within `pongTimeout` ms (default: the interval), the connection is failed as dead
   * (`error`, then `close` with 1006 and wasClean false). Off by default.
   */
  readonly pingInterval?: number;
  /** With `pingInterval`: ms to wait for each pong before failing the connection (default: the interval). */
  readonly pongTimeout?: number;
}

/** The events a WebSocket fires, by type (as lib.dom's WebSocketEventMap). */
export interface WebSocketEventMap {
  /** The opening handshake succeeded: `send` may be called. */
  open: Event;
  /** A message arrived (`data` as `binaryType` asks for a binary one). */
  message: MessageEvent;
  /** The standard fires a plain Event; wsx's ErrorEvent also carries the `error`. */
  error: ErrorEvent;
  /** The connection has closed (fired once, last). */
  close: CloseEvent;
}

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
export class WebSocket extends TypedEventTarget<WebSocketEventMap> {
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
  readonly #handlers = new HandlerAttributes<WebSocket, WebSocketEventMap>(this);
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
    if (isOptionsObject(protocols)) {
      options = protocols;
      protocols = options.protocols;
    }
    options ??= {};
    const parsed = parseUrl(url);
    this.#url = parsed.href;
    this.#origin = parsed.origin;
    const offered = parseProtocols(protocols ?? options.protocols);
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
    if (signal !== undefined) {
      if (signal.aborted) this.#abort.abort(signal.reason);
      else {
        const onAbort = () => this.#abortHandshake(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        // The signal only concerns the handshake: let go of it once that is over.
        this.#releaseSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
    const handlers: SocketHandlers<unknown> = {
      open: (socket) => {
        this.#socket = socket;
        this.#releaseSignal?.();
        if (pingInterval !== undefined && pingInterval > 0)
          this.#startHeartbeat(socket, pingInterval, pongTimeout);
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
    dial(parsed.dialUrl, {
      ...rest,
      protocols: offered,
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

  // ---- event handler attributes ----

  /** Handler of `open`; null for none. */
  get onopen(): EventHandler<WebSocket, Event> {
    return this.#handlers.get('open');
  }
  /** Sets the `open` handler; a value that is not a function counts as null. */
  set onopen(value: EventHandler<WebSocket, Event>) {
    this.#handlers.set('open', value);
  }
  /** Handler of `message`; null for none. */
  get onmessage(): EventHandler<WebSocket, MessageEvent> {
    return this.#handlers.get('message');
  }
  /** Sets the `message` handler; a value that is not a function counts as null. */
  set onmessage(value: EventHandler<WebSocket, MessageEvent>) {
    this.#handlers.set('message', value);
  }
  /** Handler of `error`; null for none. */
  get onerror(): EventHandler<WebSocket, ErrorEvent> {
    return this.#handlers.get('error');
  }
  /** Sets the `error` handler; a value that is not a function counts as null. */
  set onerror(value: EventHandler<WebSocket, ErrorEvent>) {
    this.#handlers.set('error', value);
  }
  /** Handler of `close`; null for none. */
  get onclose(): EventHandler<WebSocket, CloseEvent> {
    return this.#handlers.get('close');
  }
  /** Sets the `close` handler; a value that is not a function counts as null. */
  set onclose(value: EventHandler<WebSocket, CloseEvent>) {
    this.#handlers.set('close', value);
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
    const failure = this.#failure;
    if (failure !== null) {
      const message = failure instanceof Error ? failure.message : String(failure);
      this.dispatchEvent(new ErrorEvent('error', { error: failure, message }));
      this.dispatchEvent(new CloseEvent('close', { wasClean: false, code: 1006, reason: '' }));
    } else {
      this.dispatchEvent(new CloseEvent('close', { wasClean, code, reason }));
    }
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

  #startHeartbeat(socket: Socket<unknown>, interval: number, timeout: number | undefined): void {
    this.#heartbeat = new Heartbeat(
      { interval, timeout },
      () => {
        socket.ping();
      },
      (error) => this.#fail(error),
    );
    this.#heartbeat.start();
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

function isOptionsObject(value: unknown): value is WebSocketOptions {
  return typeof value === 'object' && value !== null && !(Symbol.iterator in value);
}

function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer;
}

/**
 * The constructor's URL steps: parse (a relative or invalid URL is a SyntaxError, as Node has
 * no base URL), map http(s) to ws(s), accept ws, wss (and ws+unix, wss+unix), refuse fragments.
 */
export function parseUrl(input: string | URL): { href: string; origin: string; dialUrl: string } {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new DOMException(`WebSocket: ${JSON.stringify(String(input))} is not a valid URL`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url = new URL(`ws:${url.href.slice(5)}`);
  else if (url.protocol === 'https:') url = new URL(`wss:${url.href.slice(6)}`);
  const scheme = url.protocol;
  if (scheme !== 'ws:' && scheme !== 'wss:' && scheme !== 'ws+unix:' && scheme !== 'wss+unix:') {
    throw new DOMException(`WebSocket: the URL scheme must be ws: or wss:, not ${scheme}`, 'SyntaxError');
  }
  if (url.href.includes('#')) {
    throw new DOMException('WebSocket: the URL cannot have a fragment', 'SyntaxError');
  }
  try {
    parseClientUrl(url.href); // what dial will do, e.g. with a ws+unix: socket path
  } catch (error) {
    throw new DOMException(`WebSocket: ${(error as Error).message}`, 'SyntaxError');
  }
  return { href: url.href, origin: url.origin, dialUrl: url.href };
}

/** The constructor's protocols steps: each a token, none twice (compared case-insensitively). */
export function parseProtocols(protocols: string | Iterable<string> | undefined): string[] {
  if (protocols === undefined) return [];
  const list = typeof protocols === 'string' ? [protocols] : Array.from(protocols, String);
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol)) {
      throw new DOMException(
        `WebSocket: ${JSON.stringify(protocol)} is not a valid subprotocol`,
        'SyntaxError',
      );
    }
    const key = protocol.toLowerCase();
    if (seen.has(key))
      throw new DOMException(`WebSocket: subprotocol ${protocol} is listed twice`, 'SyntaxError');
    seen.add(key);
  }
  return list;
}

/**
 * The argument checks of `close(code, reason)`: the code (a WebIDL `[Clamp] unsigned short`)
 * must be 1000 or 3000-4999, else InvalidAccessError; the reason at most 123 UTF-8 bytes,
 * else SyntaxError. Absent arguments stay undefined.
 */
export function checkCloseArguments(
  code: unknown,
  reason: unknown,
): { code: number | undefined; reason: string | undefined } {
  let closeCode: number | undefined;
  if (code !== undefined) {
    closeCode = clampUint16(code);
    if (closeCode !== 1000 && (closeCode < 3000 || closeCode > 4999)) {
      throw new DOMException(
        `close: the code must be 1000 or in 3000-4999; got ${closeCode}`,
        'InvalidAccessError',
      );
    }
  }
  let closeReason: string | undefined;
  if (reason !== undefined) {
    closeReason = String(reason);
    if (Buffer.byteLength(closeReason, 'utf8') > MAX_CLOSE_REASON_BYTES) {
      throw new DOMException('close: the reason is longer than 123 UTF-8 bytes', 'SyntaxError');
    }
  }
  return { code: closeCode, reason: closeReason };
}

/** WebIDL `[Clamp] unsigned short`. */
function clampUint16(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(data.length);
  new Uint8Array(copy).set(data);
  return copy;
}
