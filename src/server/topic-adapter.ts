/**
 * The seam between a server's topics and whatever carries them to other processes (Redis,
 * IPC, ...). Types only: the registry (`topics.ts`) calls an adapter, the adapters live beside
 * the server and never import it.
 */

import type { SubscribeOptions, TopicPosition, TopicRecovery } from './topic-types.js';

export type { SubscribeOptions, TopicPosition, TopicRecovery };

/** A message as an adapter delivers it. */
export interface TopicDelivery {
  /** The topic it was published to. */
  readonly topic: string;
  /** The message's bytes (UTF-8 for text). */
  readonly payload: Uint8Array;
  /** Binary (true) or text (false). */
  readonly isBinary: boolean;
  /** Its place in the topic's history; null for adapters without one. */
  readonly position: TopicPosition | null;
  /** What this process passed as `origin` to `publish`, when the message is its own; else null. */
  readonly origin: unknown;
}

/** Messages after an offset, as an adapter with history returns them. */
export interface TopicHistory {
  /** The topic's current epoch ('' when the topic has no history at all yet). */
  readonly epoch: string;
  /** The topic's latest offset (0 when empty). */
  readonly head: number;
  /** The messages after the asked offset, oldest first (at most the asked limit). */
  readonly messages: readonly TopicDelivery[];
}

/**
 * Carries topics across processes. Without `ordered`, the registry delivers every publish to
 * this process's subscribers itself, synchronously, and the adapter only carries it to other
 * processes and brings theirs back (at most once). With `ordered`, the adapter gives every
 * message a position and delivers all of them, this process's own included, through
 * `onMessage` in the topic's order: then the registry writes nothing itself.
 */
export interface TopicAdapter {
  /** Called once by the server that uses the adapter. */
  onMessage(
    deliver: (topic: string, payload: Uint8Array, isBinary: boolean, delivery?: TopicDelivery) => void,
  ): void;
  /**
   * A message published in this process. `origin` is handed back with the delivery of an
   * ordered adapter (so `exceptSelf` can skip the publisher). May return a promise of the
   * message's position (null without history) that rejects when the message was refused.
   */
  publish(
    topic: string,
    payload: Uint8Array,
    isBinary: boolean,
    origin?: unknown,
  ): void | Promise<TopicPosition | null>;
  /** This process has its first subscriber of `topic` (e.g. SUBSCRIBE the Redis channel). */
  subscribe(topic: string): void;
  /** This process's last subscriber of `topic` has left. */
  unsubscribe(topic: string): void;
  /** Delivers its own publishes back, every message with a position, in order per topic. */
  readonly ordered?: boolean;
  /** Up to `limit` messages of `topic` after `offset`; only adapters that keep history have it. */
  history?(topic: string, afterOffset: number, limit: number): Promise<TopicHistory>;
  /** Called once by the server: told when a topic's subscribers here missed messages that cannot be replayed. */
  onReset?(reset: (topic: string, position: TopicPosition | null, reason: string) => void): void;
  /** Called once by the server: where the adapter reports errors (link lost, refused publishes, bad input). */
  onError?(report: (error: Error) => void): void;
  /** The adapter's counters and state, shown in `server.stats().adapter`. */
  stats?(): AdapterStats;
  /** The server is shutting down. */
  close?(): void | Promise<void>;
}

/** What an adapter reports about itself; every field optional but `kind`. */
export interface AdapterStats {
  /** Which adapter this is, e.g. `redis` or `ipc`. */
  readonly kind: string;
  readonly [name: string]: string | number | boolean | null;
}
