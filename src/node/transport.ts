/**
 * What a Socket needs from the stream it runs over. A TCP or TLS socket (RFC 6455) and an
 * HTTP/2 stream (RFC 8441) both have it, so the binding does not fork by protocol.
 */
export interface Transport {
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableLength: number;
  /** Absent on an HTTP/2 stream: its session's socket carries the address. */
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** Absent on an HTTP/2 stream: the session sets it once for all its streams. */
  setNoDelay?(noDelay?: boolean): unknown;
  write(chunk: Uint8Array | string, encoding?: BufferEncoding): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  cork(): void;
  uncork(): void;
  pause(): unknown;
  resume(): unknown;
  isPaused(): boolean;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

// Node's own listener type for streams: the arguments depend on the event.
// biome-ignore lint/suspicious/noExplicitAny: as in Node's EventEmitter typings
type Listener = (...args: any[]) => void;

/** The HTTP version a WebSocket runs over: '1.1' (an upgraded connection) or '2' (a stream of a session). */
export type HttpVersion = '1.1' | '2';
