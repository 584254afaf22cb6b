import type { SocketPolicies } from './socket-types.js';
import type { Transport } from './transport.js';

/** Frames up to this size are gathered into shared buffers (up to GATHER_BYTES_LIMIT each); larger ones are written as they are. */
const GATHER_FRAME_LIMIT = 4 * 1024 + 16;
/** Gathered bytes are handed on once they reach this much, so a gathered buffer stays small. */
const GATHER_BYTES_LIMIT = 64 * 1024;

/**
 * The writing side of a socket's binding: bytes the protocol core produces go to the transport
 * corked, one flush per tick, with the small frames of a tick gathered into one buffer. The
 * root of the socket's classes (reading, closing and the public socket build on it), so that
 * a connection stays one object.
 */
export abstract class WritingSocket {
  /** @internal */
  protected readonly transport: Transport;
  /** @internal The owner's policies, shared by its sockets. */
  readonly policies: SocketPolicies;
  private flushScheduled = false;
  /** Small frames written this tick, handed to the transport as one buffer (see `write`). */
  private gathered: Uint8Array[] | null = null;
  private gatheredBytes = 0;

  constructor(transport: Transport, policies: SocketPolicies) {
    this.transport = transport;
    this.policies = policies;
  }

  /** @internal ConnectionEvents: bytes to write, in order. */
  write(data: Uint8Array): void {
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) return;
    this.policies.counters.bytesOut += data.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      transport.cork();
      process.nextTick(flush, this);
    }
    // Every stream write has a fixed cost far above copying a small frame, and each one is
    // an iovec of the flush's writev: small frames are gathered and written as one buffer.
    if (data.length > GATHER_FRAME_LIMIT) {
      this.writeGathered();
      transport.write(data);
      return;
    }
    if (this.gatheredBytes + data.length > GATHER_BYTES_LIMIT) this.writeGathered();
    (this.gathered ??= []).push(data);
    this.gatheredBytes += data.length;
  }

  /** Hands the gathered frames to the transport, in one buffer. */
  protected writeGathered(): void {
    const frames = this.gathered;
    if (frames === null || frames.length === 0) return;
    const bytes = this.gatheredBytes;
    this.gatheredBytes = 0;
    const transport = this.transport;
    if (transport.destroyed || transport.writableEnded) {
      frames.length = 0;
      return;
    }
    if (frames.length === 1) {
      transport.write(frames[0]);
      frames.length = 0;
      return;
    }
    const joined = Buffer.concat(frames, bytes);
    frames.length = 0;
    transport.write(joined);
  }

  /** Bytes written but not yet handed to the operating system. */
  protected buffered(): number {
    return this.transport.writableLength + this.gatheredBytes;
  }

  /** @internal Writes what this tick gathered now, rather than at the end of the tick. */
  flushNow(): void {
    // Already done when reading or ending flushed early; one uncork per cork.
    if (!this.flushScheduled) return;
    this.flushScheduled = false;
    this.writeGathered();
    this.transport.uncork();
  }
}

function flush(socket: WritingSocket): void {
  socket.flushNow();
}
