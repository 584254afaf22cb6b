import { addTopic, hasTopic, removeTopic } from './own-topics.js';
import { PreparedMessage } from './prepared.js';
import type { ServerSocket, TopicHub } from './server-socket.js';
import { Subscribers } from './subscribers.js';
import type {
  SubscribeOptions,
  TopicAdapter,
  TopicDelivery,
  TopicPosition,
  TopicRecovery,
} from './topic-adapter.js';
import { Recoveries } from './topic-recovery.js';

export { MemoryTopicBus } from './memory-topic-bus.js';
export type { TopicAdapter } from './topic-adapter.js';

/** What a topic message looks like to `topicEnvelope`. */
export interface TopicMessage {
  /** The topic it was published to. */
  readonly topic: string;
  /** The message's bytes (UTF-8 for text). */
  readonly payload: Uint8Array;
  /** Binary (true) or text (false), as published. */
  readonly isBinary: boolean;
  /** Its place in the topic's history (adapters that keep one); null otherwise. */
  readonly position: TopicPosition | null;
}

/**
 * Turns a topic message into what subscribers receive: a string goes as text, bytes as binary.
 * Called once per message per server, so the result is still framed once for all subscribers.
 */
export type TopicEnvelope = (message: TopicMessage) => string | Uint8Array;

/** Options of a {@link TopicRegistry}; all have defaults. */
export interface TopicRegistryOptions {
  /** Rewrites each message before it is framed for subscribers; default: sent as published. */
  readonly envelope?: TopicEnvelope | undefined;
  /** Where errors of the adapter and refused publishes go (default: `console.error`). */
  readonly report?: ((error: Error) => void) | undefined;
  /** Most messages one `subscribe(topic, { since })` replays; a longer gap is 'too many'. Default 10,000. */
  readonly maxRecovery?: number | undefined;
}

/** What `publishConfirmed` resolves with. */
export interface PublishResult {
  /** Local sockets it was (or, for an ordered adapter, will be) written to. */
  readonly local: number;
  /** Its place in the topic's history, when the adapter keeps one. */
  readonly position: TopicPosition | null;
}

/**
 * Topics of one server: which sockets are subscribed to what, and the fan-out. A publish is
 * framed once (`PreparedMessage`) and the same Buffer is written to every subscriber; each
 * socket applies its own backpressure policy, so a slow subscriber never holds back the others.
 * A socket's own topics live on the socket (`socket.topics`, with its slot in each topic's
 * `Subscribers`), so the close of a socket removes it from every topic in O(1) each.
 */
export class TopicRegistry implements TopicHub {
  private readonly topics = new Map<string, Subscribers<ServerSocket<unknown>>>();
  private readonly adapter: TopicAdapter | null;
  private readonly ordered: boolean;
  private readonly envelope: TopicEnvelope | undefined;
  private readonly report: (error: Error) => void;
  private readonly recoveries: Recoveries;
  private subscriptionCount = 0;
  /** Messages published here (not counting those that came through the adapter). */
  published = 0;
  /** Publishes the adapter refused or failed to carry (each also reported). */
  publishFailures = 0;

  constructor(adapter: TopicAdapter | null = null, options: TopicRegistryOptions = {}) {
    this.adapter = adapter;
    this.ordered = adapter?.ordered === true;
    this.envelope = options.envelope;
    this.report = options.report ?? ((error) => console.error(`wsx: topics: ${error.message}`));
    this.recoveries = new Recoveries(this, options.maxRecovery ?? 10_000);
    adapter?.onMessage((topic, payload, isBinary, delivery) => {
      this.deliver(delivery ?? { topic, payload, isBinary, position: null, origin: null });
    });
    adapter?.onReset?.((topic, position, reason) => this.reset(topic, position, reason));
    adapter?.onError?.((error) => this.report(error));
  }

  /**
   * Subscribes `socket` to `topic`; false if it already was (or has closed). With `since`, the
   * messages after it are replayed first (adapters with history), and the socket's `recovery`
   * handler is told the outcome.
   */
  subscribe(socket: ServerSocket<unknown>, topic: string, options?: SubscribeOptions): boolean {
    if (typeof topic !== 'string') throw new TypeError('a topic is a string');
    const since = options?.since;
    if (since !== undefined) checkPosition(since);
    if (socket.readyState === 'closed') return false;
    if (hasTopic(socket.topics, topic)) return false;
    let subscribers = this.topics.get(topic);
    if (subscribers === undefined) {
      subscribers = new Subscribers(topic);
      this.topics.set(topic, subscribers);
      this.adapter?.subscribe(topic);
    }
    addTopic(socket, topic, subscribers.add(socket));
    this.subscriptionCount++;
    if (since !== undefined) this.recoveries.begin(socket, topic, since, this.adapter);
    return true;
  }

  /** Unsubscribes `socket` from `topic`; false if it was not subscribed. */
  unsubscribe(socket: ServerSocket<unknown>, topic: string): boolean {
    if (!hasTopic(socket.topics, topic)) return false;
    this.remove(socket, topic);
    removeTopic(socket, topic);
    return true;
  }

  /** Removes a closed socket from all its topics. */
  unsubscribeAll(socket: ServerSocket<unknown>): void {
    const own = socket.topics;
    if (own === null) return;
    if (typeof own === 'string') this.remove(socket, own);
    else for (const topic of own.keys()) this.remove(socket, topic);
    socket.topics = null;
    socket.topicSlot = -1;
  }

  /** Takes `socket` out of the subscribers of `topic`; its own topics still name it (for its slot). */
  private remove(socket: ServerSocket<unknown>, topic: string): void {
    const subscribers = this.topics.get(topic);
    if (subscribers === undefined || !subscribers.delete(socket)) return;
    this.recoveries.forget(socket, topic);
    this.subscriptionCount--;
    if (subscribers.size === 0) {
      this.topics.delete(topic);
      this.recoveries.dropTopic(topic);
      this.adapter?.unsubscribe(topic);
    }
  }

  /**
   * Publishes to every subscriber of `topic` (but `origin`, when given) and, through the
   * adapter, to other processes. A string goes as text unless `binary` is true; bytes go as
   * binary unless `binary` is false (then they must be valid UTF-8). Returns how many sockets
   * of this process it was written to (or queued for: see `ServerSocket.sendPrepared`); with an
   * ordered adapter (Redis streams), how many it will be written to once it comes back with
   * its position. A message the adapter refuses is counted and reported.
   */
  publish(
    topic: string,
    data: string | Uint8Array,
    binary: boolean | undefined,
    origin: ServerSocket<unknown> | null,
  ): number {
    const result = this.send(topic, data, binary, origin);
    if (result.pending !== null) result.pending.catch(this.failed);
    return result.local;
  }

  /** Like `publish`, but resolves once the adapter has taken the message (with its position) and rejects if it refused it. */
  async publishConfirmed(
    topic: string,
    data: string | Uint8Array,
    binary: boolean | undefined,
    origin: ServerSocket<unknown> | null,
  ): Promise<PublishResult> {
    const result = this.send(topic, data, binary, origin);
    if (result.pending === null) return { local: result.local, position: null };
    try {
      return { local: result.local, position: await result.pending };
    } catch (error) {
      this.publishFailures++;
      throw error;
    }
  }

  private readonly failed = (error: unknown): void => {
    this.publishFailures++;
    // An outage fails publishes by the thousand: one report a second, with the count since.
    const now = Date.now();
    if (now - this.lastFailureReport < 1_000) {
      this.unreportedFailures++;
      return;
    }
    this.lastFailureReport = now;
    const more = this.unreportedFailures;
    this.unreportedFailures = 0;
    const message = error instanceof Error ? error.message : String(error);
    this.report(
      new Error(more > 0 ? `${message} (and ${more} more publishes failed before it)` : message, {
        cause: error,
      }),
    );
  };
  private lastFailureReport = 0;
  private unreportedFailures = 0;

  private send(
    topic: string,
    data: string | Uint8Array,
    binary: boolean | undefined,
    origin: ServerSocket<unknown> | null,
  ): { local: number; pending: Promise<TopicPosition | null> | null } {
    if (typeof topic !== 'string') throw new TypeError('a topic is a string');
    const isBinary = typeof data === 'string' ? binary === true : binary !== false;
    const payload = isBinary && typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.published++;
    const adapter = this.adapter;
    if (this.ordered && adapter !== null) {
      const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
      const pending = adapter.publish(topic, bytes, isBinary, origin) ?? null;
      const subscribers = this.topics.get(topic);
      const local =
        subscribers === undefined
          ? 0
          : subscribers.size - (origin !== null && subscribers.has(origin) ? 1 : 0);
      return { local, pending };
    }
    const plain = new PreparedMessage(payload, isBinary);
    const message =
      this.envelope === undefined ? plain : this.enveloped(topic, plain.bytes(), isBinary, null);
    const pending = adapter?.publish(topic, plain.bytes(), isBinary) ?? null;
    const local = this.writeAll(topic, message, origin, null);
    return { local, pending };
  }

  /** A message from the adapter: written to this process's subscribers of its topic. */
  private deliver(delivery: TopicDelivery): void {
    const message = this.prepare(delivery);
    const origin = delivery.origin instanceof Object ? (delivery.origin as ServerSocket<unknown>) : null;
    this.writeAll(delivery.topic, message, origin, delivery.position);
  }

  /** The frame subscribers get for a delivery (through `topicEnvelope` when there is one). */
  prepare(delivery: TopicDelivery): PreparedMessage {
    if (this.envelope === undefined) return new PreparedMessage(delivery.payload, delivery.isBinary);
    return this.enveloped(delivery.topic, delivery.payload, delivery.isBinary, delivery.position);
  }

  private enveloped(
    topic: string,
    payload: Uint8Array,
    isBinary: boolean,
    position: TopicPosition | null,
  ): PreparedMessage {
    const shaped = this.envelope!({ topic, payload, isBinary, position });
    return new PreparedMessage(shaped, typeof shaped !== 'string');
  }

  /** Writes a prepared message to this process's subscribers of `topic`. */
  deliverPrepared(topic: string, message: PreparedMessage, origin: ServerSocket<unknown> | null): number {
    return this.writeAll(topic, message, origin, null);
  }

  private writeAll(
    topic: string,
    message: PreparedMessage,
    origin: ServerSocket<unknown> | null,
    position: TopicPosition | null,
  ): number {
    const subscribers = this.topics.get(topic);
    if (subscribers === undefined) return 0;
    const recovering = this.recoveries.of(topic);
    let written = 0;
    const sockets = subscribers.beginWalk();
    const count = sockets.length;
    try {
      for (let i = 0; i < count; i++) {
        const socket = sockets[i];
        if (socket === null || socket === origin) continue;
        if (recovering?.has(socket)) {
          if (this.recoveries.offer(socket, topic, message, position)) written++;
        } else if (socket.sendPrepared(message) !== 'dropped') written++;
      }
    } finally {
      subscribers.endWalk();
    }
    if (position !== null) this.recoveries.advance(topic, position);
    return written;
  }

  /** The adapter lost messages of `topic` it cannot replay: every subscriber here is told. */
  private reset(topic: string, position: TopicPosition | null, reason: string): void {
    const subscribers = this.topics.get(topic);
    if (subscribers === undefined) return;
    if (position !== null) this.recoveries.advance(topic, position);
    const result: TopicRecovery = { topic, recovered: false, missed: 0, reason, position };
    for (const socket of subscribers.snapshot()) socket.topicRecovery(result);
  }

  /** Subscribers of `topic` in this process. */
  subscribers(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** The sockets subscribed to `topic` in this process, as a Set of their own (a copy). */
  subscribersOf(topic: string): ReadonlySet<ServerSocket<unknown>> {
    return this.topics.get(topic)?.snapshot() ?? new Set();
  }

  /** Topics with at least one subscriber here. */
  get topicCount(): number {
    return this.topics.size;
  }

  /** Subscriptions here, over all topics. */
  get subscriptions(): number {
    return this.subscriptionCount;
  }

  /** Topic names with subscribers here. */
  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** Recoveries answered, by outcome. */
  get recoveryCounts(): {
    /** Every missed message was replayed. */
    readonly hits: number;
    /** Not every missed message could be replayed. */
    readonly misses: number;
  } {
    return this.recoveries.counts;
  }

  /** The adapter's own counters, when it has any. */
  adapterStats(): ReturnType<NonNullable<TopicAdapter['stats']>> | null {
    return this.adapter?.stats?.() ?? null;
  }

  /** Closes the adapter, if there is one (resolves when it has closed). */
  async close(): Promise<void> {
    await this.adapter?.close?.();
  }
}

function checkPosition(since: TopicPosition): void {
  if (typeof since !== 'object' || since === null) throw new TypeError('since is { offset, epoch }');
  if (!Number.isSafeInteger(since.offset) || since.offset < 0) {
    throw new RangeError(`since.offset must be an integer >= 0, got ${String(since.offset)}`);
  }
  if (typeof since.epoch !== 'string') throw new TypeError('since.epoch must be a string');
}
