import { Connection } from '../protocol/connection.js';
import type { ConnectionEvents } from '../protocol/connection-types.js';
import { bindingOf } from './binding.js';
import { scratchReader } from './scratch-read.js';
import type { SocketInit, SocketSettings } from './socket-types.js';
import type { Transport } from './transport.js';
import { Flag, readEnded, readStarted, WritingSocket } from './writes.js';

const kSocket = Symbol('wsx.socket');
type ListenedTransport = Transport & { [kSocket]?: TransportSink };

/**
 * What a transport's events go to: the socket, or, on a server that reads request heads
 * itself, the head reader before it. One set of listeners serves both, so handing a
 * connection from the reader to its socket adds and removes none.
 */
export interface TransportSink {
  onData(chunk: Buffer): void;
  /** Bytes of a read buffer that is reused once this returns; absent where the sink keeps views of what it reads. */
  onLentData?(chunk: Buffer): void;
  onEnd(): void;
  finish(): void;
  onError(error: Error): void;
  onDrain(): void;
}

/**
 * Sends `transport`'s events to `sink`, adding the listeners only if they are not there yet;
 * a plain TCP socket then reads through the shared scratch (`scratch-read.ts`).
 */
export function listenTransport(transport: Transport, sink: TransportSink): void {
  const listened = transport as ListenedTransport;
  const had = listened[kSocket] !== undefined;
  listened[kSocket] = sink;
  if (had) return;
  transport.on('data', onTransportData);
  listenForEnd(listened);
  transport.on('close', onTransportClose);
  transport.on('error', onTransportError);
  transport.on('drain', onTransportDrain);
  readThroughScratch(transport);
}

/** Removes what `listenTransport` added (a connection handed to another reader). */
export function unlistenTransport(transport: Transport): void {
  const listened = transport as ListenedTransport;
  if (listened[kSocket] === undefined) return;
  listened[kSocket] = undefined;
  transport.off('data', onTransportData);
  const events = (transport as { _events?: Record<string, unknown> })._events;
  const end = events?.end;
  if (end === onStreamEnd) events!.end = streamEnd;
  else if (Array.isArray(end) && end.includes(onStreamEnd)) {
    // Someone added an 'end' listener after ours: Node's own goes back in our place.
    end[end.indexOf(onStreamEnd)] = streamEnd;
  } else transport.off('end', onTransportEnd);
  transport.off('close', onTransportClose);
  transport.off('error', onTransportError);
  transport.off('drain', onTransportDrain);
}

/**
 * The reading side of a socket's binding: the transport's events, bytes read fed to the
 * protocol core, and reading paused by the application or while our own writes are backed up
 * (TCP flow control then slows the peer).
 */
export abstract class ReadingSocket extends WritingSocket implements TransportSink {
  /** @internal */
  protected readonly connection: Connection;
  /** @internal Heartbeat sweeps since bytes last arrived from the peer. */
  silentSweeps = 0;

  constructor(init: SocketInit<unknown>) {
    super(init.transport, bindingOf(init));
    // The events are the whole socket: `write` is above, the rest in the classes built on this one.
    this.connection = new Connection(init.role, this as unknown as ConnectionEvents, init.limits);
    listenTransport(this.transport, this);
  }

  /** @internal */
  protected get settings(): SocketSettings {
    return this.binding.settings;
  }

  /** @internal The transport ended its side. */
  abstract onEnd(): void;
  /** @internal The transport has closed. */
  abstract finish(): void;
  /** @internal */
  abstract onError(error: Error): void;
  /** @internal The transport's buffer has emptied. */
  abstract onDrain(): void;

  /** @internal Ends our side of the transport (after the peer ended its own). */
  protected abstract endOurSide(): void;

  /**
   * Stops reading: nothing more is delivered (no message, ping, pong or close) until `resume`,
   * even frames already read, so a handler can pause between two messages that arrived
   * together. Once the transport's small read buffer is full, the operating system's receive
   * window fills and the peer's writes back up (TCP flow control).
   */
  pause(): void {
    this.flags |= Flag.PausedByUser;
    this.connection.holdInput();
    this.transport.pause();
  }

  /** Delivers what was read meanwhile, then reads from the transport again after `pause`. */
  resume(): void {
    this.flags &= ~Flag.PausedByUser;
    this.connection.releaseInput();
    // A handler run by the release may have paused again.
    if ((this.flags & Flag.EndAfterHeldInput) !== 0 && !this.connection.isInputHeld) {
      this.flags &= ~Flag.EndAfterHeldInput;
      this.endOurSide();
    }
    if ((this.flags & (Flag.PausedForWrites | Flag.PausedByUser)) === 0) this.transport.resume();
  }

  /** Whether reading is paused, by `pause` or while the socket waits for its writes to drain. */
  get isPaused(): boolean {
    return this.transport.isPaused();
  }

  /** @internal */
  onData(chunk: Buffer): void {
    this.take(chunk, false);
  }

  /** @internal A large read, as a view of the shared scratch (`scratch-read.ts`). */
  onLentData(chunk: Buffer): void {
    this.take(chunk, true);
  }

  private take(chunk: Buffer, lent: boolean): void {
    this.silentSweeps = 0;
    this.policies.counters.bytesIn += chunk.length;
    if (lent) this.connection.receiveLent(chunk);
    else this.connection.receive(chunk);
    // A peer that sends but does not read (a ping flood, an echo it never collects) would
    // make us queue replies without bound: stop reading until our writes drain. The replies
    // are offered to the kernel first, so that one large reply it takes at once (a 1 MiB
    // echo) does not stall reading.
    const limit = this.settings.backpressureLimit;
    if ((this.flags & Flag.PausedForWrites) !== 0 || this.buffered() <= limit) return;
    this.flushNow();
    if (this.buffered() > limit) {
      this.flags |= Flag.PausedForWrites;
      this.transport.pause();
    }
  }

  /** Reads again once the writes that paused reading have drained. */
  protected resumeAfterDrain(): void {
    // The peer has taken everything we had for it: it is alive, even if its pong is still
    // unread because reading was paused for our writes.
    this.silentSweeps = 0;
    if ((this.flags & Flag.PausedForWrites) === 0) return;
    this.flags &= ~Flag.PausedForWrites;
    if ((this.flags & Flag.PausedByUser) === 0) this.transport.resume();
  }
}

/** net.Socket's own 'end' listener, as found on the first transport that had it alone. */
let streamEnd: ((this: ListenedTransport) => void) | null = null;

/**
 * Listens for the end of the transport's input. A net.Socket listens to its own 'end'
 * (`onReadableStreamEnd`); a second listener would make it keep an array of the two, 64 bytes
 * for every connection. Where Node's is the only one, one listener takes its place that calls
 * Node's first and then ours: the same calls in the same order, with no array. Node keeps a
 * slot for 'end' in every stream's listener table, so the table keeps its shape.
 */
function listenForEnd(transport: ListenedTransport): void {
  const events = (transport as { _events?: Record<string, unknown> })._events;
  const current = events?.end;
  if (
    typeof current === 'function' &&
    current.name === 'onReadableStreamEnd' &&
    (streamEnd === null || current === streamEnd)
  ) {
    streamEnd = current as (this: ListenedTransport) => void;
    events!.end = onStreamEnd;
    return;
  }
  transport.on('end', onTransportEnd);
}

// Module-level listeners: `this` is the transport, which points back to its socket.
function onStreamEnd(this: ListenedTransport): void {
  streamEnd!.call(this);
  // Undefined once the transport went to another reader (Node's HTTP server).
  this[kSocket]?.onEnd();
}
function onTransportData(this: ListenedTransport, chunk: Buffer): void {
  deliver(this[kSocket]!, chunk, false);
}
function onTransportLentData(this: ListenedTransport, chunk: Buffer): boolean {
  const sink = this[kSocket];
  if (sink?.onLentData === undefined) return false;
  deliver(sink, chunk, true);
  return true;
}
function deliver(sink: TransportSink, chunk: Buffer, lent: boolean): void {
  readStarted();
  try {
    if (lent) sink.onLentData!(chunk);
    else sink.onData(chunk);
  } finally {
    readEnded();
  }
}
/** Moves a plain TCP socket's reads off Node's per-read buffers (see `scratch-read.ts`). */
const readThroughScratch = scratchReader(onTransportData, onTransportLentData);
function onTransportEnd(this: ListenedTransport): void {
  this[kSocket]!.onEnd();
}
function onTransportClose(this: ListenedTransport): void {
  this[kSocket]!.finish();
}
function onTransportError(this: ListenedTransport, error: Error): void {
  this[kSocket]!.onError(error);
}
function onTransportDrain(this: ListenedTransport): void {
  this[kSocket]!.onDrain();
}
