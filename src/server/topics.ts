import type { Socket, TopicHub } from '../node/socket.js';
import { hasTopic, withoutTopic, withTopic } from './own-topics.js';
import { PreparedMessage } from './prepared.js';

/**
 * Carries topics across processes. The registry delivers every publish to this process's
 * subscribers itself, synchronously and in order; an adapter only carries messages to the
 * other processes (over Redis, NATS, ...) and brings theirs back. Without an adapter a server
 * is on its own. `MemoryTopicBus` links servers inside one process.
 */
export interface TopicAdapter {
  /** Called once by the server that uses the adapter: messages from other processes go to `deliver`. */
  onMessage(deliver: (topic: string, payload: Uint8Array, isBinary: boolean) => void): void;
  /** A message published in this process: carry it to the subscribers elsewhere, not back here. */
  publish(topic: string, payload: Uint8Array, isBinary: boolean): void;
  /** This process has its first subscriber of `topic` (e.g. SUBSCRIBE the Redis channel). */
  subscribe(topic: string): void;
  /** This process's last subscriber of `topic` has left. */
  unsubscribe(topic: string): void;
  /** The server is shutting down. */
  close?(): void | Promise<void>;
}

/**
 * Topics of one server: which sockets are subscribed to what, and the fan-out. A publish is
 * framed once (`PreparedMessage`) and the same Buffer is written to every subscriber; each
 * socket applies its own backpressure policy, so a slow subscriber never holds back the others.
 * A socket's own topics live on the socket (`socket.topics`), so a subscription costs one entry
 * in each of two sets, and the close of a socket removes it from every topic.
 */
export class TopicRegistry implements TopicHub {
  private readonly topics = new Map<string, Set<Socket<unknown>>>();
  private readonly adapter: TopicAdapter | null;
  private subscriptionCount = 0;
  /** Messages published here (not counting those that came through the adapter). */
  published = 0;

  constructor(adapter: TopicAdapter | null = null) {
    this.adapter = adapter;
    adapter?.onMessage((topic, payload, isBinary) => {
      this.deliver(topic, new PreparedMessage(payload, isBinary), null);
    });
  }

  /** Subscribes `socket` to `topic`; false if it already was (or has closed). */
  subscribe(socket: Socket<unknown>, topic: string): boolean {
    if (typeof topic !== 'string') throw new TypeError('a topic is a string');
    if (socket.readyState === 'closed') return false;
    if (hasTopic(socket.topics, topic)) return false;
    socket.topics = withTopic(socket.topics, topic);
    let subscribers = this.topics.get(topic);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.topics.set(topic, subscribers);
      this.adapter?.subscribe(topic);
    }
    subscribers.add(socket);
    this.subscriptionCount++;
    return true;
  }

  /** Unsubscribes `socket` from `topic`; false if it was not subscribed. */
  unsubscribe(socket: Socket<unknown>, topic: string): boolean {
    if (!hasTopic(socket.topics, topic)) return false;
    socket.topics = withoutTopic(socket.topics, topic);
    this.remove(socket, topic);
    return true;
  }

  /** Removes a closed socket from all its topics. */
  unsubscribeAll(socket: Socket<unknown>): void {
    const own = socket.topics;
    if (own === null) return;
    socket.topics = null;
    if (typeof own === 'string') this.remove(socket, own);
    else for (const topic of own) this.remove(socket, topic);
  }

  private remove(socket: Socket<unknown>, topic: string): void {
    const subscribers = this.topics.get(topic);
    if (subscribers === undefined || !subscribers.delete(socket)) return;
    this.subscriptionCount--;
    if (subscribers.size === 0) {
      this.topics.delete(topic);
      this.adapter?.unsubscribe(topic);
    }
  }

  /**
   * Publishes to every subscriber of `topic` (but `origin`, when given) and, through the
   * adapter, to other processes. A string goes as text unless `binary` is true; bytes go as
   * binary unless `binary` is false (then they must be valid UTF-8). Returns how many sockets
   * of this process it was written to (or queued for: see `Socket.sendPrepared`).
   */
  publish(
    topic: string,
    data: string | Uint8Array,
    binary: boolean | undefined,
    origin: Socket<unknown> | null,
  ): number {
    const isBinary = typeof data === 'string' ? binary === true : binary !== false;
    const message = new PreparedMessage(
      isBinary && typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
      isBinary,
    );
    this.published++;
    this.adapter?.publish(topic, message.bytes(), isBinary);
    return this.deliver(topic, message, origin);
  }

  /** Writes a prepared message to this process's subscribers of `topic`. */
  deliver(topic: string, message: PreparedMessage, origin: Socket<unknown> | null): number {
    const subscribers = this.topics.get(topic);
    if (subscribers === undefined) return 0;
    let written = 0;
    for (const socket of subscribers) {
      if (socket !== origin && socket.sendPrepared(message) !== 'dropped') written++;
    }
    return written;
  }

  /** Subscribers of `topic` in this process. */
  subscribers(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** The sockets subscribed to `topic` in this process (a live view: do not change it). */
  subscribersOf(topic: string): ReadonlySet<Socket<unknown>> {
    return this.topics.get(topic) ?? EMPTY_SET;
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

  async close(): Promise<void> {
    await this.adapter?.close?.();
  }
}

const EMPTY_SET: ReadonlySet<Socket<unknown>> = new Set();

/**
 * Links the servers of one process: each server gets `bus.adapter()`, and a publish on one
 * reaches the subscribers of the others (synchronously). The in-process reference for what a
 * Redis or NATS adapter does between processes, and a way to test code written against one.
 */
export class MemoryTopicBus {
  private readonly members = new Set<MemoryTopicAdapter>();

  /** A new adapter on this bus, for one server. */
  adapter(): TopicAdapter {
    const adapter = new MemoryTopicAdapter(this);
    this.members.add(adapter);
    return adapter;
  }

  /** @internal */
  forward(from: MemoryTopicAdapter, topic: string, payload: Uint8Array, isBinary: boolean): void {
    for (const member of this.members) {
      if (member !== from && member.topics.has(topic)) member.deliver?.(topic, payload, isBinary);
    }
  }

  /** @internal */
  leave(member: MemoryTopicAdapter): void {
    this.members.delete(member);
  }
}

class MemoryTopicAdapter implements TopicAdapter {
  readonly topics = new Set<string>();
  deliver: ((topic: string, payload: Uint8Array, isBinary: boolean) => void) | null = null;
  private readonly bus: MemoryTopicBus;

  constructor(bus: MemoryTopicBus) {
    this.bus = bus;
  }

  onMessage(deliver: (topic: string, payload: Uint8Array, isBinary: boolean) => void): void {
    this.deliver = deliver;
  }

  publish(topic: string, payload: Uint8Array, isBinary: boolean): void {
    this.bus.forward(this, topic, payload, isBinary);
  }

  subscribe(topic: string): void {
    this.topics.add(topic);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }

  close(): void {
    this.bus.leave(this);
    this.topics.clear();
  }
}
