import { Socket as NetSocket } from 'node:net';

/**
 * What a Socket needs from the stream it runs over. A TCP or TLS socket (RFC 6455) and an
 * HTTP/2 stream (RFC 8441) both have it, so the binding does not fork by protocol.
 */
export interface Transport {
  /** Whether the stream has been destroyed. */
  readonly destroyed: boolean;
  /** Whether `end` has been called. */
  readonly writableEnded: boolean;
  /** Bytes written but not yet handed on. */
  readonly writableLength: number;
  /** Absent on an HTTP/2 stream: its session's socket carries the address. */
  readonly remoteAddress?: string | undefined;
  /** Absent on an HTTP/2 stream, as the address. */
  readonly remotePort?: number | undefined;
  /** Set on TLS sockets. */
  readonly encrypted?: boolean | undefined;
  /** Absent on an HTTP/2 stream: the session sets it once for all its streams. */
  setNoDelay?(noDelay?: boolean): unknown;
  /** Queues bytes to send; false once the stream's buffer is over its high-water mark. */
  write(chunk: Uint8Array | string, encoding?: BufferEncoding): boolean;
  /** Ends our side once what is queued has gone. */
  end(): unknown;
  /** Closes the stream at once. */
  destroy(error?: Error): unknown;
  /** Holds writes back until `uncork`, so they go out together. */
  cork(): void;
  /** Hands on the writes held since `cork`. */
  uncork(): void;
  /** Stops reading. */
  pause(): unknown;
  /** Reads again. */
  resume(): unknown;
  /** Whether reading is paused. */
  isPaused(): boolean;
  /** True while the stream is flowing (read and emitted as data arrives), false once paused, null before anyone asked to read. */
  readonly readableFlowing: boolean | null;
  /** Adds a listener. */
  on(event: string, listener: Listener): unknown;
  /** Adds a listener called once. */
  once(event: string, listener: Listener): unknown;
  /** Removes a listener. */
  off(event: string, listener: Listener): unknown;
}

// Node's own listener type for streams: the arguments depend on the event.
// biome-ignore lint/suspicious/noExplicitAny: as in Node's EventEmitter typings
type Listener = (...args: any[]) => void;

/** The HTTP version a WebSocket runs over: '1.1' (an upgraded connection) or '2' (a stream of a session). */
export type HttpVersion = '1.1' | '2';

/** Sends small writes at once where the transport has a Nagle delay to turn off (frames are already gathered, one write per tick). */
export function disableNagle(transport: Transport): void {
  if (typeof transport.setNoDelay === 'function') transport.setNoDelay(true);
}

/**
 * Whether closing the descriptor is a clean end for this transport: plain TCP only. TLS needs
 * its close_notify (through `end`), and a stream inside another connection (HTTP/2) ends by
 * its own protocol.
 */
export function closesWithDescriptor(transport: Transport): boolean {
  return transport instanceof NetSocket && (transport as Transport).encrypted !== true;
}

/**
 * A plain `net.Socket`, not TLS nor any subclass: one whose reads and writes are Node's own,
 * so that what it reads is handed on at once and what it writes is held only while queued
 * (`writableLength`).
 */
export function isPlainTcpSocket(transport: Transport): boolean {
  return transport instanceof NetSocket && Object.getPrototypeOf(transport) === NetSocket.prototype;
}
