/** A callback of `send` (and, inside, of `ping` and `pong`). */
export type SendCallback = (error?: Error) => void;
/**
 * What `ping` and `pong` call once the frame is written (with no argument) or could not be. Typed
 * as @types/ws types it, so that sockets are assignable to @types/ws's WebSocket.
 */
export type ControlCallback = (error: Error) => void;

/** An operation waiting its turn: a message whose Blob is being read, or anything queued behind one. */
interface Waiting {
  readonly blob: Blob | null;
  bytes: Uint8Array | null;
  /** Bytes it will send, counted in `bufferedAmount` meanwhile. */
  readonly size: number;
  readonly run: (bytes: Uint8Array | null) => void;
  readonly cb: SendCallback | undefined;
}

/**
 * Keeps the order of what is sent while a Blob is read (its bytes arrive asynchronously):
 * every send, ping, pong and close after it waits until it has gone, as ws does.
 */
export class Outbox {
  private readonly queue: Waiting[] = [];
  private reading = false;
  /** Bytes of the messages waiting. */
  bytes = 0;

  /** `failed` is told when a Blob cannot be read (after every waiting callback was). */
  constructor(private readonly failed: (error: Error) => void) {}

  get busy(): boolean {
    return this.queue.length > 0;
  }

  push(
    blob: Blob | null,
    size: number,
    cb: SendCallback | undefined,
    run: (bytes: Uint8Array | null) => void,
  ): void {
    this.queue.push({ blob, bytes: null, size, run, cb });
    this.bytes += size;
    this.pump();
  }

  private pump(): void {
    const queue = this.queue;
    while (queue.length > 0) {
      const head = queue[0];
      if (head.blob !== null && head.bytes === null) {
        if (!this.reading) this.read(head);
        return;
      }
      queue.shift();
      this.bytes -= head.size;
      head.run(head.bytes);
    }
  }

  private read(item: Waiting): void {
    this.reading = true;
    item.blob!.arrayBuffer().then(
      (buffer) => {
        this.reading = false;
        if (this.queue[0] !== item) return; // abandoned meanwhile
        item.bytes = new Uint8Array(buffer);
        this.pump();
      },
      (error: Error) => {
        this.reading = false;
        if (this.queue[0] !== item) return;
        this.abandon(error);
        this.failed(error);
      },
    );
  }

  /** The socket closed (or a Blob could not be read): every waiting callback is told `error`. */
  abandon(error: Error): void {
    const waiting = this.queue.splice(0);
    this.bytes = 0;
    for (const item of waiting) if (item.cb !== undefined) process.nextTick(item.cb, error);
  }
}
