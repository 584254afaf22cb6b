import type { TopicHistory, TopicPosition } from '../server/topic-adapter.js';
import type { Envelope } from './envelope.js';

/** What ordering needs from the adapter. */
export interface OrderingHost {
  history(topic: string, afterOffset: number, limit: number): Promise<TopicHistory>;
  deliver(topic: string, message: Envelope | TopicHistory['messages'][number]): void;
  reset(topic: string, position: TopicPosition | null, reason: string): void;
  /** A history read failed: reported, and tried again once the link is up. */
  failed(topic: string, error: unknown): void;
  readonly counters: { duplicates: number; gapsRepaired: number; resets: number };
}

/** One topic as this node has delivered it: the last epoch and offset, and what waits while it catches up. */
interface TopicOrder {
  epoch: string;
  offset: number;
  /** Not null while the node fetches what it missed (or, at first, where the topic stands). */
  held: Envelope[] | null;
}

/** Messages fetched per history read while catching up. */
const PAGE = 500;
/** Live messages held while catching up; past this the topic is reset rather than held without bound. */
const MAX_HELD = 50_000;

/**
 * Stream mode's guarantee on one node: every topic's messages reach the local subscribers in
 * offset order, each once, with no gap. Redis's channel brings them in order while the link
 * holds; after a gap (the subscription connection broke, a cluster slot moved) the node reads
 * what it missed from the topic's stream before going on. What the stream no longer has (the
 * epoch changed, or history was trimmed) is announced as a reset.
 */
export class StreamOrder {
  private readonly topics = new Map<string, TopicOrder>();

  constructor(private readonly host: OrderingHost) {}

  /** The topic's first local subscriber: find where it stands, holding live messages meanwhile. */
  add(topic: string): void {
    if (this.topics.has(topic)) return;
    const order: TopicOrder = { epoch: '', offset: -1, held: [] };
    this.topics.set(topic, order);
    this.catchUp(topic, order);
  }

  remove(topic: string): void {
    this.topics.delete(topic);
  }

  /** The link is back: every topic reads what it may have missed (`topic`: just that one). */
  resync(topic?: string): void {
    for (const [name, order] of this.topics) {
      if (topic !== undefined && name !== topic) continue;
      order.held ??= [];
      this.catchUp(name, order);
    }
  }

  /** A live message from the channel. */
  receive(topic: string, message: Envelope): void {
    const order = this.topics.get(topic);
    if (order === undefined) return;
    if (order.held !== null) {
      // Past the bound a message is left to the stream: the gap it leaves is read back from there.
      if (order.held.length < MAX_HELD) order.held.push(message);
      return;
    }
    this.accept(topic, order, message);
  }

  private accept(topic: string, order: TopicOrder, message: Envelope): void {
    if (message.epoch !== order.epoch && order.epoch === '') {
      order.epoch = message.epoch; // the topic's first history: nothing came before it
      order.offset = Math.max(order.offset, 0);
    }
    if (message.epoch !== order.epoch) {
      // A new history (Redis lost the old one): what came before in it cannot be told apart
      // from what was lost, so the subscribers are told, then the node reads the new history.
      this.host.counters.resets++;
      this.host.reset(topic, { offset: 0, epoch: message.epoch }, 'epoch changed');
      order.epoch = message.epoch;
      order.offset = 0;
      order.held = [message];
      this.catchUp(topic, order);
      return;
    }
    if (message.offset <= order.offset) {
      this.host.counters.duplicates++;
      return;
    }
    if (message.offset !== order.offset + 1) {
      order.held = [message];
      this.catchUp(topic, order);
      return;
    }
    order.offset = message.offset;
    this.host.deliver(topic, message);
  }

  private catchUp(topic: string, order: TopicOrder): void {
    const first = order.offset < 0;
    // At first only the head is wanted: subscribers start from now.
    const after = first ? 0 : order.offset;
    this.host.history(topic, after, first ? 0 : PAGE).then(
      (history) => {
        if (this.topics.get(topic) !== order) return;
        if (first) {
          order.epoch = history.epoch;
          order.offset = history.head;
        } else if (!this.replay(topic, order, history)) {
          return;
        }
        if (!first && history.messages.length >= PAGE) return this.catchUp(topic, order);
        this.release(topic, order);
      },
      (error) => this.host.failed(topic, error),
    );
  }

  /** Delivers what the history has past the node's offset; false when it went to read more. */
  private replay(topic: string, order: TopicOrder, history: TopicHistory): boolean {
    if (history.epoch !== order.epoch) {
      if (order.epoch !== '') {
        this.host.counters.resets++;
        this.host.reset(topic, { offset: 0, epoch: history.epoch }, 'epoch changed');
      }
      if (history.epoch === '') {
        order.epoch = '';
        order.offset = 0;
        return true;
      }
      order.epoch = history.epoch;
      order.offset = 0;
      this.catchUp(topic, order);
      return false;
    }
    const messages = history.messages;
    const firstOffset = messages[0]?.position?.offset;
    if (history.head > order.offset && firstOffset !== order.offset + 1) {
      this.host.counters.resets++;
      const skippedTo = (firstOffset ?? history.head + 1) - 1;
      this.host.reset(topic, { offset: skippedTo, epoch: history.epoch }, 'history trimmed');
      order.offset = skippedTo;
    }
    for (const message of messages) {
      const offset = message.position!.offset;
      if (offset <= order.offset) continue;
      order.offset = offset;
      this.host.counters.gapsRepaired++;
      this.host.deliver(topic, message);
    }
    return true;
  }

  /** Caught up: the held live messages go through in order (a gap among them starts another catch-up). */
  private release(topic: string, order: TopicOrder): void {
    const held = order.held ?? [];
    order.held = null;
    for (let i = 0; i < held.length; i++) {
      this.accept(topic, order, held[i]!);
      const again = order.held as Envelope[] | null; // `accept` may have started another catch-up
      if (again !== null) {
        again.push(...held.slice(i + 1));
        return;
      }
    }
  }
}
