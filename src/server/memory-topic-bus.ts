import type { TopicAdapter } from './topic-adapter.js';

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
