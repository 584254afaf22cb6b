/**
 * What a WebSocket is given and what it fires: its options and event map, and the
 * constructor's cold steps (reading its overloaded arguments, forwarding the caller's signal).
 */
import type { DialOptions } from './dial.js';
import type { CloseEvent, ErrorEvent, MessageEvent } from './events.js';
import { parseProtocols, parseUrl } from './whatwg-checks.js';

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

/**
 * The constructor's argument steps, shared with ReconnectingWebSocket: the options object may
 * stand in for the subprotocols; then the URL and the subprotocols are checked, in that order.
 */
export function readArguments<Options extends WebSocketOptions>(
  url: string | URL,
  protocols: string | Iterable<string> | Options | undefined,
  options: Options | undefined,
): { url: ReturnType<typeof parseUrl>; protocols: string[]; options: Options } {
  if (isOptionsObject<Options>(protocols)) {
    options = protocols;
    protocols = options.protocols;
  }
  options ??= {} as Options;
  return { url: parseUrl(url), protocols: parseProtocols(protocols ?? options.protocols), options };
}

function isOptionsObject<Options>(value: unknown): value is Options {
  return typeof value === 'object' && value !== null && !(Symbol.iterator in value);
}

/**
 * Forwards the caller's `signal` to the handshake's own controller: at once when it is already
 * aborted, else through `onAbort`. Returns how to let go of the signal, or null when there is none to.
 */
export function forwardAbort(
  signal: AbortSignal | undefined,
  abort: AbortController,
  onAbort: (reason: unknown) => void,
): (() => void) | null {
  if (signal === undefined) return null;
  if (signal.aborted) {
    abort.abort(signal.reason);
    return null;
  }
  const listener = () => onAbort(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  // The signal only concerns the handshake: let go of it once that is over.
  return () => signal.removeEventListener('abort', listener);
}
