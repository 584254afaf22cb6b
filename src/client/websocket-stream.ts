import type { Socket, SocketHandlers } from '../node/socket.js';
import { MAX_CLOSE_REASON_BYTES } from '../protocol/close.js';
import { checkRequestHeaders } from '../protocol/handshake/client.js';
import { type DialOptions, dial } from './dial.js';
import { forwardAbort } from './websocket-options.js';
import { parseProtocols, parseUrl } from './whatwg-checks.js';

/** What `opened` resolves with. */
export interface WebSocketOpenInfo {
  /** Messages as they arrive: strings for text, Uint8Arrays for binary. */
  readonly readable: ReadableStream<string | Uint8Array>;
  /** Strings are sent as text, ArrayBuffers and views as binary. */
  readonly writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  /** The subprotocol the server selected (`''` when none). */
  readonly protocol: string;
  /** The extensions in use, as the server's Sec-WebSocket-Extensions value (`''` when none). */
  readonly extensions: string;
}

/** What `closed` resolves with, and what `close` takes. */
export interface WebSocketCloseInfo {
  /** The close code: 1000 or 3000-4999 when given to `close`. */
  readonly closeCode?: number;
  /** The close reason, at most 123 UTF-8 bytes. */
  readonly reason?: string;
}

/** Options of {@link WebSocketStream}: the {@link WebSocket} client's Node extras, and stream settings. */
export interface WebSocketStreamOptions
  extends Omit<DialOptions<never>, 'handlers' | 'data' | 'protocols' | 'requireProtocol'> {
  /**
   * Subprotocols to offer. As in the standard, when some were offered and the server selected
   * none, the connection fails: `opened` and `closed` reject.
   */
  readonly protocols?: readonly string[];
  /** Aborts the opening handshake (no effect once open). */
  readonly signal?: AbortSignal;
  /**
   * Bytes of received messages the readable side holds before the socket stops reading from
   * TCP, so that the server's sends back up (default 256 KiB). A message larger than this is
   * still delivered whole.
   */
  readonly readableHighWaterMark?: number;
}

const DEFAULT_READABLE_HIGH_WATER_MARK = 256 * 1024;

/**
 * The standard's WebSocketError: a DOMException named 'WebSocketError' with the close code
 * and reason of the closure it reports (named WebSocketStreamError here, as wsx's own
 * WebSocketError is the base of its errors). Give one to `writable.abort()` or
 * `readable.cancel()` to choose the close code sent.
 */
export class WebSocketStreamError extends DOMException {
  /** The close code of the closure (null when there is none to report). */
  readonly closeCode: number | null;
  /** The close reason (`''` when none). */
  readonly reason: string;
  /** @throws DOMException `InvalidAccessError` for a code other than 1000 or 3000-4999; `SyntaxError` for a reason over 123 bytes. */
  constructor(message = '', init: WebSocketCloseInfo = {}) {
    super(message, 'WebSocketError');
    const { code, reason } = validateCloseInfo(init);
    this.closeCode = code ?? null;
    this.reason = reason ?? '';
  }
}

/**
 * A WebSocket client over WHATWG streams (the WebSocketStream of the WebSockets Standard):
 * `opened` gives a readable of incoming messages and a writable for outgoing ones, and both
 * apply backpressure. When the readable's queue passes its high-water mark, the socket
 * stops reading from TCP, so a fast server is slowed down to the pace of the consumer;
 * a write resolves once the socket's buffer is under its limit again.
 *
 * @example
 * ```ts
 * import { WebSocketStream } from 'wsx';
 * const wss = new WebSocketStream('ws://127.0.0.1:8080/');
 * const { readable, writable } = await wss.opened;
 * const writer = writable.getWriter();
 * await writer.write('hello');
 * for await (const message of readable) {
 *   console.log(message);
 *   break;
 * }
 * wss.close({ closeCode: 1000, reason: 'done' });
 * ```
 */
export class WebSocketStream {
  /** The URL, as parsed (http: and https: become ws: and wss:). */
  readonly url: string;
  /** Resolves once the connection is open; rejects (with a WebSocketStreamError, or the abort reason) when it cannot be opened. */
  readonly opened: Promise<WebSocketOpenInfo>;
  /** Resolves with the close code and reason after a clean close; rejects (a WebSocketStreamError with 1006) otherwise. */
  readonly closed: Promise<{
    /** The close code received. */
    closeCode: number;
    /** The close reason received. */
    reason: string;
  }>;

  #socket: Socket<unknown> | null = null;
  #readable: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  #writable: WritableStreamDefaultController | null = null;
  #readableDone = false;
  #closing = false;
  #settled = false;
  #failure: unknown = null;
  readonly #abort = new AbortController();
  readonly #drainWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #resolveOpened!: (info: WebSocketOpenInfo) => void;
  #rejectOpened!: (error: unknown) => void;
  #resolveClosed!: (info: { closeCode: number; reason: string }) => void;
  #rejectClosed!: (error: unknown) => void;
  #releaseSignal: (() => void) | null = null;

  /**
   * Starts connecting at once.
   *
   * @throws DOMException `SyntaxError` for a bad URL or subprotocol list; TypeError for a header
   *   that cannot be sent.
   */
  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    const parsed = parseUrl(url);
    this.url = parsed.href;
    const protocols = parseProtocols(options.protocols ?? []);
    // A header that cannot be sent is the caller's mistake: throw now, not as a failed connection.
    checkRequestHeaders(options.headers, options.origin);
    this.opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    // Whoever only awaits one of them must not get an unhandled rejection from the other.
    this.opened.catch(() => {});
    this.closed.catch(() => {});

    const { protocols: _protocols, signal, readableHighWaterMark, ...rest } = options;
    const highWaterMark = readableHighWaterMark ?? DEFAULT_READABLE_HIGH_WATER_MARK;
    this.#releaseSignal = forwardAbort(signal, this.#abort, (reason) => {
      if (this.#socket === null) this.#abort.abort(reason);
    });
    const handlers: SocketHandlers<unknown> = {
      open: (socket) => this.#open(socket, highWaterMark),
      message: (socket, data, isBinary) => this.#message(socket, data, isBinary),
      drain: () => this.#drained(),
      error: (_socket, error) => {
        this.#failure ??= error;
      },
      close: (socket, code, reason) => this.#closed(socket.wasClean, code, reason),
    };
    // The WHATWG rule, stricter than RFC 6455: offered subprotocols mean one must be selected.
    dial(parsed.dialUrl, {
      ...rest,
      protocols,
      requireProtocol: true,
      handlers,
      signal: this.#abort.signal,
    }).catch((cause: unknown) => {
      this.#settled = true;
      this.#releaseSignal?.();
      // An abort rejects with its reason; any other failure with a WebSocketError saying why.
      const error =
        this.#abort.signal.aborted && cause === this.#abort.signal.reason
          ? cause
          : closureError(cause instanceof Error ? cause.message : String(cause), 1006, '', cause);
      this.#rejectOpened(error);
      this.#rejectClosed(error);
    });
  }

  /**
   * Closes the connection: `closeCode` must be 1000 or 3000-4999 (InvalidAccessError), the
   * reason at most 123 UTF-8 bytes (SyntaxError); a reason without a code means 1000, and
   * neither sends a close frame without status. Before the connection is open, this aborts it.
   */
  close(closeInfo: WebSocketCloseInfo = {}): void {
    const { code, reason } = validateCloseInfo(closeInfo);
    this.#close(code, reason);
  }

  #close(code: number | undefined, reason: string | undefined): void {
    if (this.#settled || this.#closing) return;
    const socket = this.#socket;
    if (socket === null) {
      this.#abort.abort(
        new WebSocketStreamError('closed before the connection was established', { closeCode: code, reason }),
      );
      return;
    }
    this.#closing = true;
    if (code === undefined && reason === undefined) socket.closeWithoutStatus();
    else socket.close(code ?? 1000, reason ?? '');
    // The closing handshake needs the peer's close frame: read on, whatever the consumer does.
    socket.resume();
  }

  /** Closes with the code and reason of a WebSocketStreamError, or with no status for anything else. */
  #closeWith(reason: unknown): void {
    if (reason instanceof WebSocketStreamError && isSendableCode(reason.closeCode)) {
      this.#close(reason.closeCode, reason.reason);
    } else {
      this.#close(undefined, undefined);
    }
  }

  #open(socket: Socket<unknown>, highWaterMark: number): void {
    this.#socket = socket;
    this.#releaseSignal?.();
    const readable = new ReadableStream<string | Uint8Array>(
      {
        start: (controller) => {
          this.#readable = controller;
        },
        pull: () => {
          if (socket.isPaused) socket.resume();
        },
        cancel: (reason) => {
          this.#readableDone = true;
          this.#closeWith(reason);
          socket.resume();
        },
      },
      { highWaterMark, size: (chunk) => (typeof chunk === 'string' ? chunk.length : chunk.byteLength) },
    );
    const writable = new WritableStream<string | ArrayBuffer | ArrayBufferView>({
      start: (controller) => {
        this.#writable = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#close(undefined, undefined),
      abort: (reason) => this.#closeWith(reason),
    });
    this.#resolveOpened({ readable, writable, protocol: socket.protocol, extensions: socket.extensions });
  }

  #message(socket: Socket<unknown>, data: Buffer, isBinary: boolean): void {
    const controller = this.#readable;
    if (controller === null || this.#readableDone) return;
    controller.enqueue(
      isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'),
    );
    // Backpressure: past the high-water mark, stop reading until the consumer pulls.
    if (!this.#closing && (controller.desiredSize ?? 1) <= 0) socket.pause();
  }

  #write(chunk: string | ArrayBuffer | ArrayBufferView): Promise<void> | undefined {
    const socket = this.#socket!;
    let status: ReturnType<Socket['send']>;
    if (chunk instanceof ArrayBuffer) status = socket.sendBinary(new Uint8Array(chunk));
    else if (ArrayBuffer.isView(chunk))
      status = socket.sendBinary(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    else status = socket.sendText(String(chunk));
    if (status === 'dropped') throw new WebSocketStreamError('the connection is closing');
    if (status === 'sent') return undefined;
    // Past the socket's backpressure limit: this write completes when its buffer drains.
    return new Promise<void>((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  #drained(): void {
    for (const waiter of this.#drainWaiters.splice(0)) waiter.resolve();
  }

  #closed(wasClean: boolean, code: number, reason: string): void {
    this.#settled = true;
    if (wasClean && this.#failure === null) {
      const error = closureError('the connection is closed', code, reason);
      if (!this.#readableDone) {
        this.#readableDone = true;
        this.#readable?.close();
      }
      this.#writable?.error(error);
      for (const waiter of this.#drainWaiters.splice(0)) waiter.reject(error);
      this.#resolveClosed({ closeCode: code, reason });
      return;
    }
    const cause = this.#failure;
    const message =
      cause instanceof Error ? cause.message : 'the connection was closed without a closing handshake';
    const error = closureError(message, 1006, '', cause);
    if (!this.#readableDone) {
      this.#readableDone = true;
      this.#readable?.error(error);
    }
    this.#writable?.error(error);
    for (const waiter of this.#drainWaiters.splice(0)) waiter.reject(error);
    this.#rejectClosed(error);
  }
}

/** A WebSocketStreamError reporting a closure (any code, unchecked), with what caused it. */
function closureError(
  message: string,
  closeCode: number | null,
  reason: string,
  cause?: unknown,
): WebSocketStreamError {
  const error = new WebSocketStreamError(message);
  const fields = error as { closeCode: number | null; reason: string };
  fields.closeCode = closeCode;
  fields.reason = reason;
  if (cause !== undefined && cause !== null) {
    Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  }
  return error;
}

function isSendableCode(code: number | null): code is number {
  return code === 1000 || (code !== null && code >= 3000 && code <= 4999);
}

/** The close code and reason checks of `close()`; a reason without a code means 1000. */
function validateCloseInfo(info: WebSocketCloseInfo): {
  code: number | undefined;
  reason: string | undefined;
} {
  let code = info.closeCode;
  if (code !== undefined) {
    code = Math.trunc(Number(code));
    if (code !== 1000 && (code < 3000 || code > 4999 || Number.isNaN(code))) {
      throw new DOMException(
        `the close code must be 1000 or in 3000-4999; got ${info.closeCode}`,
        'InvalidAccessError',
      );
    }
  }
  const reason = info.reason === undefined ? undefined : String(info.reason);
  if (reason !== undefined && Buffer.byteLength(reason, 'utf8') > MAX_CLOSE_REASON_BYTES) {
    throw new DOMException('the close reason is longer than 123 UTF-8 bytes', 'SyntaxError');
  }
  if (reason !== undefined && reason !== '' && code === undefined) code = 1000;
  return { code, reason };
}
