/** The reconnecting WebSocket: its connections one after another, and its offline send queue. */
import { Backoff } from './backoff.js';
import { CloseEvent, DropEvent, ErrorEvent, MessageEvent, ReconnectEvent, type SendData } from './events.js';
import { CLOSED, CLOSING, CONNECTING, defineReadyStateConstants, OPEN } from './ready-state.js';
import {
  type Disconnection,
  defaultShouldReconnect,
  type ReconnectingWebSocketEventMap,
  type ReconnectingWebSocketOptions,
  type ReconnectOptions,
} from './reconnect-options.js';
import { WebSocket } from './websocket.js';
import { WebSocketEventTarget } from './websocket-event-target.js';
import { type BinaryType, readArguments, type WebSocketOptions } from './websocket-options.js';
import { checkCloseArguments } from './whatwg-checks.js';

/**
 * A WebSocket that reconnects. It has the WebSocket interface (`send`, `close`, `readyState`,
 * `bufferedAmount`, `binaryType`, `open`/`message`/`error`/`close` events) over a series of
 * connections, and:
 *
 * - after a connection is lost (or cannot be made), waits with exponential backoff and
 *   jitter and tries again, up to `maxRetries` consecutive failures;
 * - `send` while not connected queues the message (bounded in count and bytes, with a policy
 *   when full) and sends it, in order, after the next `onConnect` hook;
 * - fires `reconnecting` (attempt, delay, and how the connection closed), `reconnect` (a
 *   connection is back), `reconnectfailed` (gave up), `drop` (the queue dropped a message).
 *
 * `open` fires for every connection; `close` fires once, when the application closed it, the
 * server closed it for good (see `shouldReconnect`), or retries ran out. `readyState` is
 * CONNECTING while (re)connecting and CLOSED only then. Messages sent on a connection that is
 * lost before they reach the server are lost: delivery is at most once.
 */
export class ReconnectingWebSocket extends WebSocketEventTarget<ReconnectingWebSocketEventMap> {
  /** `readyState` 0: (re)connecting. */
  static readonly CONNECTING = CONNECTING;
  /** `readyState` 1: a connection is open. */
  static readonly OPEN = OPEN;
  /** `readyState` 2: closing for good. */
  static readonly CLOSING = CLOSING;
  /** `readyState` 3: closed for good. */
  static readonly CLOSED = CLOSED;

  /** The URL connected to, normalized (as `new URL(url).href`). */
  readonly url: string;
  readonly #protocols: string[];
  readonly #options: WebSocketOptions;
  readonly #reconnect: ReconnectOptions;
  readonly #backoff: Backoff;
  #state: number = CONNECTING;
  #socket: WebSocket | null = null;
  /** The socket is open, its hook has run and the queue is flushed: sends go straight out. */
  #ready = false;
  /** Consecutive attempts that did not end in a usable connection. */
  #failures = 0;
  #everConnected = false;
  #timer: NodeJS.Timeout | null = null;
  #closeRequest: { code: number | undefined; reason: string | undefined } | null = null;
  #binaryType: BinaryType = 'blob';
  readonly #queue: Array<{ data: SendData; size: number }> = [];
  #queuedBytes = 0;

  /**
   * Starts connecting at once. Takes the same arguments as {@link WebSocket} (and throws the
   * same errors for a bad URL or subprotocol), with `reconnect` among the options.
   *
   * @example
   * ```ts
   * import { ReconnectingWebSocket } from 'wsx';
   * const ws = new ReconnectingWebSocket('ws://127.0.0.1:8080/', {
   *   reconnect: { maxRetries: 10, onConnect: (socket) => socket.send('hello again') },
   * });
   * ws.addEventListener('reconnecting', (event) => console.log(`retry ${event.attempt} in ${event.delay} ms`));
   * ws.send('queued until the first connection is open');
   * ```
   */
  constructor(
    url: string | URL,
    protocols?: string | Iterable<string> | ReconnectingWebSocketOptions,
    options?: ReconnectingWebSocketOptions,
  ) {
    super();
    const args = readArguments(url, protocols, options);
    const { reconnect = {}, ...socketOptions } = args.options;
    this.url = args.url.href;
    this.#protocols = args.protocols;
    this.#options = socketOptions;
    this.#reconnect = reconnect;
    this.#backoff = new Backoff(reconnect);
    if (socketOptions.binaryType !== undefined) this.binaryType = socketOptions.binaryType;
    this.#connect();
  }

  /** CONNECTING while (re)connecting, OPEN while connected, CLOSING/CLOSED once closed for good. */
  get readyState(): number {
    return this.#state;
  }

  /** The subprotocol of the current connection (`''` when none or not connected). */
  get protocol(): string {
    return this.#socket?.protocol ?? '';
  }

  /** The extensions of the current connection (`''` when none or not connected). */
  get extensions(): string {
    return this.#socket?.extensions ?? '';
  }

  /** How binary messages are delivered to every connection (default `blob`); other values are ignored. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  /** Sets the binary type of this and every later connection; other values are ignored. */
  set binaryType(value: BinaryType) {
    if (value !== 'blob' && value !== 'arraybuffer' && value !== 'nodebuffer') return;
    this.#binaryType = value;
    if (this.#socket !== null) this.#socket.binaryType = value;
  }

  /** The current connection's buffered bytes plus the bytes waiting in the offline queue. */
  get bufferedAmount(): number {
    return (this.#socket?.bufferedAmount ?? 0) + this.#queuedBytes;
  }

  /** Messages waiting for a connection. */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  /** The current underlying WebSocket, if any. */
  get socket(): WebSocket | null {
    return this.#socket;
  }

  /**
   * Sends now when connected; otherwise queues the message for the next connection. With
   * the 'error' policy, a full queue throws a QuotaExceededError DOMException. After `close`,
   * it does nothing.
   */
  send(data: SendData): void {
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    if (this.#ready && this.#socket !== null && this.#socket.readyState === OPEN) {
      this.#socket.send(data);
      return;
    }
    this.#enqueue(data);
  }

  /** Closes the current connection (same checks as WebSocket's) and stops reconnecting. */
  close(code?: number, reason?: string): void {
    const checked = checkCloseArguments(code, reason);
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    this.#closeRequest = checked;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const socket = this.#socket;
    if (socket !== null && socket.readyState !== CLOSED) {
      this.#state = CLOSING;
      socket.close(checked.code, checked.reason);
      return;
    }
    // Waiting between attempts: nothing to close.
    this.#state = CLOSED;
    this.#dropQueue();
    setImmediate(() =>
      this.dispatchEvent(
        new CloseEvent('close', {
          code: checked.code ?? 1005,
          reason: checked.reason ?? '',
          wasClean: false,
        }),
      ),
    );
  }

  // ---- internals ----

  #connect(): void {
    this.#timer = null;
    this.#ready = false;
    const socket = new WebSocket(this.url, { ...this.#options, protocols: this.#protocols });
    socket.binaryType = this.#binaryType;
    this.#socket = socket;
    socket.addEventListener('open', () => void this.#opened(socket));
    socket.addEventListener('message', (event) => {
      this.dispatchEvent(new MessageEvent('message', { data: event.data, origin: event.origin }));
    });
    socket.addEventListener('error', (event) => {
      this.dispatchEvent(new ErrorEvent('error', { error: event.error, message: event.message }));
    });
    socket.addEventListener('close', (event) => this.#lost(socket, event));
  }

  async #opened(socket: WebSocket): Promise<void> {
    const attempt = this.#failures;
    const reconnected = this.#everConnected;
    try {
      await this.#reconnect.onConnect?.(socket, { attempt, reconnected });
    } catch (error) {
      this.dispatchEvent(
        new ErrorEvent('error', {
          error,
          message: `onConnect failed: ${error instanceof Error ? error.message : error}`,
        }),
      );
      if (socket.readyState === OPEN) socket.close(4000, 'onConnect failed');
      return;
    }
    if (socket !== this.#socket || socket.readyState !== OPEN || this.#state !== CONNECTING) return;
    this.#ready = true;
    this.#state = OPEN;
    this.#failures = 0;
    this.#everConnected = true;
    for (const item of this.#queue.splice(0)) socket.send(item.data);
    this.#queuedBytes = 0;
    if (reconnected) this.dispatchEvent(new ReconnectEvent('reconnect', { attempt }));
    this.dispatchEvent(new Event('open'));
  }

  #lost(socket: WebSocket, event: CloseEvent): void {
    if (socket !== this.#socket) return;
    this.#ready = false;
    const closed: Disconnection = { code: event.code, reason: event.reason, wasClean: event.wasClean };
    if (this.#closeRequest !== null || !(this.#reconnect.shouldReconnect ?? defaultShouldReconnect)(closed)) {
      this.#finish(closed);
      return;
    }
    if (this.#state === OPEN) this.#state = CONNECTING;
    this.#failures++;
    const maxRetries = this.#reconnect.maxRetries ?? Number.POSITIVE_INFINITY;
    if (this.#failures > maxRetries) {
      this.dispatchEvent(new ReconnectEvent('reconnectfailed', { attempt: this.#failures - 1, ...closed }));
      this.#finish(closed);
      return;
    }
    const delay = this.#backoff.delay(this.#failures);
    this.dispatchEvent(new ReconnectEvent('reconnecting', { attempt: this.#failures, delay, ...closed }));
    // A listener may have called close().
    if (this.#state !== CONNECTING) return;
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  #finish(closed: Disconnection): void {
    this.#state = CLOSED;
    this.#socket = null;
    this.#dropQueue();
    this.dispatchEvent(new CloseEvent('close', closed));
  }

  #dropQueue(): void {
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  #enqueue(data: SendData): void {
    const { item, size } = copyForQueue(data);
    const maxMessages = this.#reconnect.maxQueuedMessages ?? 1000;
    const maxBytes = this.#reconnect.maxQueuedBytes ?? 1024 * 1024;
    const policy = this.#reconnect.queuePolicy ?? 'drop-oldest';
    const fits = () => this.#queue.length + 1 <= maxMessages && this.#queuedBytes + size <= maxBytes;
    if (!fits()) {
      if (policy === 'error') {
        throw new DOMException('ReconnectingWebSocket: the offline send queue is full', 'QuotaExceededError');
      }
      if (policy === 'drop-newest' || size > maxBytes || maxMessages < 1) {
        this.dispatchEvent(new DropEvent('drop', { data, policy }));
        return;
      }
      while (!fits() && this.#queue.length > 0) {
        const dropped = this.#queue.shift()!;
        this.#queuedBytes -= dropped.size;
        this.dispatchEvent(new DropEvent('drop', { data: dropped.data, policy }));
      }
    }
    this.#queue.push({ data: item, size });
    this.#queuedBytes += size;
  }
}

defineReadyStateConstants(ReconnectingWebSocket);

/** A private copy of what `send` was given (the caller may reuse its buffer), and its size. */
function copyForQueue(data: SendData): { item: SendData; size: number } {
  if (typeof data === 'string') return { item: data, size: Buffer.byteLength(data, 'utf8') };
  if (data instanceof Blob) return { item: data, size: data.size };
  if (ArrayBuffer.isView(data)) {
    return {
      item: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
      size: data.byteLength,
    };
  }
  if (
    data instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)
  ) {
    return { item: new Uint8Array(data).slice(), size: data.byteLength };
  }
  const text = String(data);
  return { item: text, size: Buffer.byteLength(text, 'utf8') };
}
