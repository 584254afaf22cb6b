import { BoundedIpcSender, DEFAULT_MAX_PENDING_BYTES, DropWarning, type IpcEndpoint } from './ipc-channel.js';
import type { AdapterStats } from './topic-adapter.js';
import type { TopicAdapter } from './topics.js';

/**
 * The messages between a worker's `IpcTopicAdapter` and the primary's `IpcTopicRelay`. Each is
 * tagged so that they can share the channel with an application's own messages. The payload is
 * a Buffer: with `serialization: 'advanced'` it travels as bytes (the default JSON serialization
 * would turn it into an array of numbers), so the relay sets that up for the workers it forks.
 */
export type IpcTopicMessage =
  | {
      /** The worker has its first subscriber of `topic`. */
      readonly wsx: 'topic-subscribe';
      /** The topic concerned. */
      readonly topic: string;
    }
  | {
      /** The worker's last subscriber of `topic` has left. */
      readonly wsx: 'topic-unsubscribe';
      /** The topic concerned. */
      readonly topic: string;
    }
  | {
      /** A message published to `topic`. */
      readonly wsx: 'topic-publish';
      /** The topic it was published to. */
      readonly topic: string;
      /** The message's bytes (UTF-8 for text). */
      readonly payload: Uint8Array;
      /** Binary (true) or text (false). */
      readonly isBinary: boolean;
    };

/** Whether `message` is one of the topic messages (and not an application's own). */
export function isIpcTopicMessage(message: unknown): message is IpcTopicMessage {
  if (typeof message !== 'object' || message === null) return false;
  const tag = (message as { wsx?: unknown }).wsx;
  return (
    (tag === 'topic-subscribe' || tag === 'topic-unsubscribe' || tag === 'topic-publish') &&
    typeof (message as { topic?: unknown }).topic === 'string'
  );
}

/** Counters of one end of the IPC topic channel. */
export interface IpcTopicStats {
  /** Publishes sent on (to the primary, or from the primary to the workers). */
  readonly relayed: number;
  /** Publishes refused because a channel was backed up: their subscribers elsewhere missed them. */
  readonly dropped: number;
  /** Publishes received from the other workers. */
  readonly received: number;
}

/** Options of an {@link IpcTopicAdapter}; all have defaults. */
export interface IpcTopicAdapterOptions {
  /** The channel to the primary (default: `process`, in a `node:cluster` worker or a forked child). */
  readonly channel?: IpcEndpoint & NodeJS.EventEmitter;
  /** Payload bytes waiting to be written to the primary past which publishes are refused (default 8 MiB). */
  readonly maxPendingBytes?: number;
}

/**
 * The worker side of topics across `node:cluster` workers: a `TopicAdapter` that sends this
 * worker's publishes, and its first-subscriber/last-subscriber changes, to the primary, where
 * `IpcTopicRelay` forwards each publish to the other workers subscribed to its topic.
 * A new worker starts with no subscriptions; the relay forgets a worker's topics when it exits.
 */
export class IpcTopicAdapter implements TopicAdapter {
  private readonly channel: IpcEndpoint & NodeJS.EventEmitter;
  private readonly sender: BoundedIpcSender;
  private readonly warning = new DropWarning(
    `worker ${process.pid}`,
    'the IPC channel to the primary is backed up',
  );
  private deliver: ((topic: string, payload: Uint8Array, isBinary: boolean) => void) | null = null;
  private received = 0;
  private readonly onChannelMessage = (message: unknown) => {
    if (!isIpcTopicMessage(message) || message.wsx !== 'topic-publish') return;
    this.received++;
    this.deliver?.(message.topic, message.payload, message.isBinary);
  };

  constructor(options: IpcTopicAdapterOptions = {}) {
    this.channel = options.channel ?? process;
    if (this.channel.send === undefined) {
      throw new Error('IpcTopicAdapter needs an IPC channel: run it in a cluster worker or a forked child');
    }
    this.sender = new BoundedIpcSender(
      this.channel,
      options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      this.warning,
    );
    this.channel.on('message', this.onChannelMessage);
  }

  onMessage(deliver: (topic: string, payload: Uint8Array, isBinary: boolean) => void): void {
    this.deliver = deliver;
  }

  publish(topic: string, payload: Uint8Array, isBinary: boolean): void {
    const message: IpcTopicMessage = { wsx: 'topic-publish', topic, payload, isBinary };
    this.sender.publish(message, payload.byteLength);
  }

  subscribe(topic: string): void {
    this.sender.control({ wsx: 'topic-subscribe', topic } satisfies IpcTopicMessage);
  }

  unsubscribe(topic: string): void {
    this.sender.control({ wsx: 'topic-unsubscribe', topic } satisfies IpcTopicMessage);
  }

  /** This worker's side: publishes sent to the primary, refused, and received. */
  get counters(): IpcTopicStats {
    return { relayed: this.sender.sent, dropped: this.sender.dropped, received: this.received };
  }

  /** The same, for `server.stats().adapter` and `/metrics`. */
  stats(): AdapterStats {
    return {
      kind: 'ipc',
      relayedTotal: this.sender.sent,
      droppedTotal: this.sender.dropped,
      receivedTotal: this.received,
    };
  }

  close(): void {
    this.channel.off('message', this.onChannelMessage);
    this.warning.close();
    this.deliver = null;
  }
}
