import { ReadingSocket } from './reading.js';
import { closesWithDescriptor } from './transport.js';
import { Flag } from './writes.js';

/**
 * How a socket's transport ends: after the closing handshake, when the peer ends its side,
 * when told to terminate, and when the close timer runs out.
 */
export abstract class ClosingSocket extends ReadingSocket {
  /** @internal What few sockets need (a close timer, an error, held frames): made on first use. */
  protected extras: SocketExtras | null = null;

  /** @internal The transport's first error, if any. */
  protected get transportError(): Error | null {
    return this.extras === null ? null : this.extras.transportError;
  }

  /** Drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.connection.receiveEof();
    this.transport.destroy();
  }

  /** @internal ConnectionEvents: close the transport now. */
  endTransport(): void {
    this.writeGathered();
    const transport = this.transport;
    // RFC 6455 §5.5.1: once both close frames have crossed, the server closes TCP at once.
    // When the kernel has taken every byte, closing the descriptor sends them and then the
    // FIN, which saves the shutdown, the wait for the peer's FIN and the timer for it.
    // TLS keeps the orderly end (its close_notify and encrypted tail go through `end`), and so
    // does any other stream, whose own writes may still be under way.
    if (this.connection.wasClean && closesWithDescriptor(transport)) {
      this.flushNow();
      if (transport.writableLength === 0) {
        transport.destroy();
        return;
      }
      // The rest is still queued: close once the kernel has it all (the close timer bounds the wait).
      transport.once('finish', destroyTransport);
    }
    transport.end();
    this.armCloseTimer();
  }

  /** @internal */
  onEnd(): void {
    this.connection.receiveEof();
    // Frames read before the end but held by `pause` are answered before our side ends.
    if (this.connection.isInputHeld) this.flags |= Flag.EndAfterHeldInput;
    else this.endOurSide();
  }

  /** @internal */
  protected endOurSide(): void {
    // Our side follows: after the closing handshake this is the clean end; otherwise 1006.
    this.writeGathered();
    // Ending twice would build (and drop) an ERR_STREAM_ALREADY_FINISHED with its stack.
    if (!this.transport.writableEnded) this.transport.end();
  }

  /** @internal */
  onError(error: Error): void {
    (this.extras ??= newExtras()).transportError ??= error;
  }

  /** @internal Set once the transport has closed. */
  protected get closed(): boolean {
    return (this.flags & Flag.Closed) !== 0;
  }

  /** Bounds the wait for the other side's close frame or TCP close. */
  protected armCloseTimer(): void {
    if (this.closed || (this.extras !== null && this.extras.closeTimer !== null)) return;
    const timer = setTimeout(onCloseTimeout, this.settings.closeTimeout, this);
    timer.unref();
    (this.extras ??= newExtras()).closeTimer = timer;
  }

  /** Marks the socket closed; false if it already was. */
  protected markClosed(): boolean {
    if (this.closed) return false;
    this.flags |= Flag.Closed;
    const timer = this.extras === null ? null : this.extras.closeTimer;
    if (timer !== null) clearTimeout(timer);
    return true;
  }

  /** @internal */
  closeTimedOut(): void {
    if (this.extras !== null) this.extras.closeTimer = null;
    this.transport.destroy();
  }
}

/** @internal What a socket keeps only once it needs it. */
export interface SocketExtras {
  closeTimer: NodeJS.Timeout | null;
  transportError: Error | null;
  /** Prepared frames waiting for an outgoing fragmented message to end. */
  held: Uint8Array[] | null;
}

export function newExtras(): SocketExtras {
  return { closeTimer: null, transportError: null, held: null };
}

function destroyTransport(this: { destroy(): void }): void {
  this.destroy();
}
function onCloseTimeout(socket: ClosingSocket): void {
  socket.closeTimedOut();
}
