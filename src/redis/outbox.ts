/** A publish waiting for the Redis link. */
export interface Queued {
  readonly send: () => void;
  readonly refuse: (error: Error) => void;
  readonly bytes: number;
}

/** Why a publish did not reach Redis. */
export class PublishRefusedError extends Error {
  /** Always `PublishRefusedError`. */
  override readonly name = 'PublishRefusedError';
}

/**
 * Publishes made while the link is down, in order, up to `maxMessages` and `maxBytes`; past
 * either the publish is refused at once (the caller hears it, the adapter counts it) rather
 * than held without bound. When the link is back they go out in the order they were made.
 */
export class Outbox {
  private queue: Queued[] = [];
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /** Queues `item`; false (and nothing queued) when the queue is full. */
  add(item: Queued): boolean {
    if (this.queue.length >= this.maxMessages || this.bytes + item.bytes > this.maxBytes) return false;
    this.queue.push(item);
    this.bytes += item.bytes;
    return true;
  }

  /** Sends everything queued, oldest first. */
  flush(): void {
    const queue = this.queue;
    this.queue = [];
    this.bytes = 0;
    for (const item of queue) item.send();
  }

  /** Refuses everything queued (the adapter is closing). */
  refuseAll(error: Error): void {
    const queue = this.queue;
    this.queue = [];
    this.bytes = 0;
    for (const item of queue) item.refuse(error);
  }
}
