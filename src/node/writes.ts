import { emptyList } from '../protocol/reused-list.js';
import type { SocketBinding } from './binding.js';
import type { SocketPolicies } from './socket-types.js';
import { isPlainTcpSocket, type Transport } from './transport.js';

/** Frames up to this size are gathered (encoded in place, or collected); larger ones are written as they are. */
const GATHER_FRAME_LIMIT = 4 * 1024 + 16;
/** Gathered bytes are handed on once they reach this much, so a gathered buffer stays small. */
const GATHER_BYTES_LIMIT = 64 * 1024;
/** Gathered pieces of this average size or more are written as they are (one writev), not joined. */
const JOIN_PIECE_LIMIT = 2048;
/** The buffer small frames are encoded into, shared by all sockets (see `reserve`). */
const SLAB_SIZE = 64 * 1024;

/** The bits of `WritingSocket.flags`, for all the socket's classes. */
export enum Flag {
  /** A flush of this tick's writes is queued. */
  FlushScheduled = 1,
  /** The transport is corked for this tick: something went to it before the flush (see `spill`). */
  Corked = 2,
  /** Reading is paused by the application. */
  PausedByUser = 4,
  /** Reading is paused because our own writes are backed up. */
  PausedForWrites = 8,
  /** The transport has closed. */
  Closed = 16,
  /** `send` reported backpressure, so `drain` is told. */
  AwaitingDrain = 32,
  /** The peer ended its side while `pause` held frames it sent before: ours ends after them. */
  EndAfterHeldInput = 64,
}

/**
 * The bits of `flags` above the `Flag` bits count the bytes gathered in this tick (at most
 * GATHER_BYTES_LIMIT, 17 bits: the whole stays a small integer), one field less per socket.
 */
const BYTES_SHIFT = 7;
const FLAG_MASK = (1 << BYTES_SHIFT) - 1;

/**
 * The writing side of a socket's binding: bytes the protocol core produces go to the transport
 * once per tick, the small frames of a tick gathered into one buffer. The root of the socket's
 * classes (reading, closing and the public socket build on it), so that a connection stays one
 * object.
 */
export abstract class WritingSocket {
  /** @internal */
  protected readonly transport: Transport;
  /** @internal What the socket shares with the others of its route or client (policies, settings, handlers, owner). */
  protected readonly binding: SocketBinding;
  /**
   * @internal The socket's yes/no states, one bit each (`Flag`): one field instead of six is
   * 40 bytes less for every idle connection. The bits above them count the gathered bytes.
   */
  protected flags = 0;
  /**
   * Small frames of this tick not encoded in place, and this socket's closed runs of the slab,
   * in order: one frame as it is (a broadcast gives each socket one), a list from the second
   * on. A socket keeps its list for later ticks once it needed one.
   */
  private gathered: Uint8Array | Uint8Array[] | null = null;

  /** Bytes gathered in this tick and not yet handed to the transport. */
  private get gatheredBytes(): number {
    return this.flags >>> BYTES_SHIFT;
  }

  private set gatheredBytes(bytes: number) {
    this.flags = (this.flags & FLAG_MASK) | (bytes << BYTES_SHIFT);
  }

  constructor(transport: Transport, binding: SocketBinding) {
    this.transport = transport;
    this.binding = binding;
  }

  /** @internal The owner's policies, shared by its sockets. */
  get policies(): SocketPolicies {
    return this.binding.policies;
  }

  /** @internal ConnectionEvents: bytes to write, in order. */
  write(data: Uint8Array): void {
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) return;
    this.policies.counters.bytesOut += data.length;
    this.scheduleFlush();
    if (tailOwner === this) closeRun();
    // Every stream write has a fixed cost far above copying a small frame: small frames are
    // gathered and written as one buffer.
    if (data.length > GATHER_FRAME_LIMIT) {
      this.spill();
      transport.write(data);
      return;
    }
    if (this.gatheredBytes + data.length > GATHER_BYTES_LIMIT) this.spill();
    this.gather(data);
    this.gatheredBytes += data.length;
  }

  /**
   * @internal ConnectionEvents: room for a small frame, encoded in place in the shared slab
   * (`frameTarget`). The frames one socket writes back to back in a tick are contiguous there,
   * so they go to the transport as one view of the slab, with no buffer per frame and no copy.
   */
  reserve(size: number): number {
    if (size > GATHER_FRAME_LIMIT) return -1;
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) return -1;
    this.policies.counters.bytesOut += size;
    this.scheduleFlush();
    if (this.gatheredBytes + size > GATHER_BYTES_LIMIT) this.spill();
    this.gatheredBytes += size;
    if (slabUsed + size > SLAB_SIZE) {
      if (tailOwner !== null) closeRun();
      slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
      slabUsed = 0;
      slabPinned = false;
    }
    if (tailOwner !== this) {
      if (tailOwner !== null) closeRun();
      tailOwner = this;
      tailStart = slabUsed;
    }
    const at = slabUsed;
    slabUsed += size;
    return at;
  }

  /** @internal The buffer `reserve` gives room in. */
  get frameTarget(): Buffer {
    return slab;
  }

  /** @internal This socket's run at the slab's tail is over: it joins the gathered frames. */
  endRun(view: Uint8Array): void {
    this.gather(view);
  }

  private gather(frame: Uint8Array): void {
    const gathered = this.gathered;
    if (gathered === null) this.gathered = frame;
    else if (Array.isArray(gathered)) gathered.push(frame);
    else this.gathered = [gathered, frame];
  }

  private scheduleFlush(): void {
    if ((this.flags & Flag.FlushScheduled) !== 0) return;
    this.flags |= Flag.FlushScheduled;
    toFlush.push(this);
    // Inside a read, the read's end flushes (`readEnded`).
    if (flushQueued || readDepth > 0) return;
    flushQueued = true;
    process.nextTick(flushAll);
  }

  /**
   * Hands what was gathered to the transport before the flush (a large frame comes, or the
   * gathered bytes reached their bound), corked so that everything of the tick still leaves in
   * one writev. A tick of small frames only is never corked.
   */
  private spill(): void {
    if ((this.flags & Flag.Corked) === 0) {
      this.flags |= Flag.Corked;
      this.transport.cork();
    }
    this.writeGathered();
  }

  /** Hands the gathered frames to the transport, in one buffer. */
  protected writeGathered(): void {
    if (tailOwner === this) {
      const gathered = this.gathered;
      // The common case, a run of the slab and nothing else: written with no list between.
      if (gathered === null || (Array.isArray(gathered) && gathered.length === 0)) {
        const run = takeRun();
        this.gatheredBytes = 0;
        if (run !== null) this.writeOne(run);
        return;
      }
      closeRun();
    }
    const frames = this.gathered;
    if (frames === null) return;
    // `writeOne` drops the frame itself when the transport is gone.
    if (!Array.isArray(frames)) {
      this.gathered = null;
      this.gatheredBytes = 0;
      this.writeOne(frames);
      return;
    }
    if (frames.length === 0) return;
    const bytes = this.gatheredBytes;
    this.gatheredBytes = 0;
    if (frames.length === 1) {
      this.writeOne(frames.pop()!);
      return;
    }
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) {
      emptyList(frames);
      return;
    }
    // Pieces of a few KiB (runs of the slab split where one filled up) cost less as iovecs of
    // one writev than copied into one buffer; small frames are cheaper joined.
    if (bytes >= frames.length * JOIN_PIECE_LIMIT) {
      if ((this.flags & Flag.Corked) === 0) {
        this.flags |= Flag.Corked;
        transport.cork();
      }
      for (let i = 0; i < frames.length; i++) transport.write(frames[i]);
      emptyList(frames);
      return;
    }
    const joined = Buffer.concat(frames, bytes);
    emptyList(frames);
    transport.write(joined);
  }

  private writeOne(frame: Uint8Array): void {
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) return;
    // Queued behind earlier writes, a view would keep its whole slab alive: queue a copy.
    transport.write(
      transport.writableLength > 0 && frame.buffer === slabOf(frame) ? Buffer.from(frame) : frame,
    );
  }

  /**
   * @internal Whether the kernel has taken everything written so far, so that no stream or
   * libuv request holds a view of the slab: a plain TCP socket with nothing queued (TLS and
   * HTTP/2 streams may hold their input after a write returns).
   */
  sentEverything(): boolean {
    const gathered = this.gathered;
    if (gathered !== null && (!Array.isArray(gathered) || gathered.length > 0)) return false;
    return isPlainTcpSocket(this.transport) && this.transport.writableLength === 0;
  }

  /** Bytes written but not yet handed to the operating system. */
  protected buffered(): number {
    return this.transport.writableLength + this.gatheredBytes;
  }

  /** @internal Writes what this tick gathered now, rather than at the end of the tick. */
  flushNow(): void {
    // Already done when reading or ending flushed early.
    if ((this.flags & Flag.FlushScheduled) === 0) return;
    this.flags &= ~Flag.FlushScheduled;
    this.writeGathered();
    if ((this.flags & Flag.Corked) !== 0) {
      this.flags &= ~Flag.Corked;
      this.transport.uncork();
    }
  }
}

// The slab small frames are encoded into, and the run at its tail: the socket that reserved
// last, and where its frames begin. A run ends when another socket reserves, when its socket
// writes something else or flushes, or when the slab is full; the full slab is left to the
// views written from it.
let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabUsed = 0;
/**
 * Set once a view of the slab may outlive its flush (a write the kernel did not take whole,
 * or a transport that may keep what it is given): from then on the slab is only replaced when
 * full, never reused.
 */
let slabPinned = false;
let tailOwner: WritingSocket | null = null;
let tailStart = 0;

function closeRun(): void {
  const owner = tailOwner!;
  const run = takeRun();
  if (run !== null) owner.endRun(run);
}

/** Ends the run at the slab's tail: its bytes as a view, null when it has none. */
function takeRun(): Buffer | null {
  tailOwner = null;
  return slabUsed > tailStart ? slab.subarray(tailStart, slabUsed) : null;
}

/** The slab's memory when `view` is a run of it (slabs are the only buffers of exactly this size). */
function slabOf(view: Uint8Array): ArrayBufferLike | null {
  return view.buffer.byteLength === SLAB_SIZE && view.byteLength < SLAB_SIZE ? view.buffer : null;
}

/**
 * Sockets written to in this tick, flushed together by one `nextTick` callback: a broadcast to
 * 10,000 sockets queues one callback, not 10,000. One array for the life of the process.
 */
const toFlush: WritingSocket[] = [];
let flushQueued = false;
/** Transport reads being handled now (nested only if a handler feeds another socket synchronously). */
let readDepth = 0;

/**
 * A transport read is handed to its socket: what its handlers write is flushed when it ends
 * rather than by a `nextTick` callback, one callback less per read. For a read from the
 * socket's handle the bytes leave at the same point (Node runs the tick queue right after
 * the read's callback); when one tick delivers several reads (`resume()` with data already
 * buffered), each read's frames now leave in a write of their own.
 */
export function readStarted(): void {
  readDepth++;
}

/** The read `readStarted` announced is handled: this tick's writes so far go out. */
export function readEnded(): void {
  if (--readDepth === 0 && toFlush.length > 0 && !flushQueued) flushAll();
}

function flushAll(): void {
  flushQueued = false;
  // A socket written to while these flush joins the list and is flushed in this pass (a
  // socket already flushed has nothing left: `flushNow` returns). One socket's failure must
  // not keep the others' bytes back: it is thrown once they are out.
  let failure: { error: unknown } | null = null;
  // Whether every view of the slab given out in this tick has gone to the kernel (nothing
  // queued, nothing gathered): then, unless an earlier tick left one behind, the slab is reused
  // from its start, and the next frames are encoded into memory still in the cache rather than
  // into a fresh 64 KiB (4 KiB echoes, bench round 11: 1.36x the messages per second).
  let slabFree = true;
  for (let i = 0; i < toFlush.length; i++) {
    const socket = toFlush[i];
    try {
      socket.flushNow();
      if (slabFree && !socket.sentEverything()) slabFree = false;
    } catch (error) {
      failure ??= { error };
      slabFree = false;
    }
  }
  emptyList(toFlush);
  if (!slabFree) slabPinned = true;
  else if (!slabPinned && tailOwner === null) slabUsed = 0;
  if (failure !== null) throw failure.error;
}
