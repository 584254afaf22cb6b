/**
 * The topic types a server socket's methods speak (`subscribe(topic, { since })` and the
 * `recovery` handler); the topic registry and the adapters use the same ones.
 */

/** Where a message sits in a topic's history: its offset, in the history identified by `epoch`. */
export interface TopicPosition {
  /** 1, 2, 3, ... per topic; consecutive, so a gap is visible. */
  readonly offset: number;
  /** Changes whenever the history is lost (e.g. Redis restarted without persistence). */
  readonly epoch: string;
}

/** Options of `socket.subscribe`. */
export interface SubscribeOptions {
  /**
   * The last position this client saw of the topic (offset 0: from the start of the history):
   * the messages after it are written before any new one, or the `recovery` handler hears why not.
   */
  readonly since?: TopicPosition;
}

/** What happened to a `subscribe(topic, { since })`, or to a subscription that lost messages. */
export interface TopicRecovery {
  /** The topic concerned. */
  readonly topic: string;
  /** True: every message after `since` was written to the socket, in order, none twice. */
  readonly recovered: boolean;
  /** Messages written from history. */
  readonly missed: number;
  /** Why not: 'no history' (the adapter keeps none), 'epoch changed', 'history trimmed', 'too many', 'unavailable'. */
  readonly reason: string | null;
  /** The latest position known for the topic, to resume from next time; null when unknown. */
  readonly position: TopicPosition | null;
}
