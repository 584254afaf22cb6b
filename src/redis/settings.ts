/** What a Redis topic adapter runs with: its mode and its limits, once resolved. */

/** How topics travel: `pubsub` at most once, or `stream` with offsets, history and recovery. */
export type RedisTopicMode = 'pubsub' | 'stream';

/** Settings of the adapter once resolved (see `RedisAdapterOptions` for each one's meaning). */
export interface RedisAdapterSettings {
  readonly mode: RedisTopicMode;
  readonly prefix: string;
  readonly maxQueued: number;
  readonly maxQueuedBytes: number;
  readonly maxPayload: number;
  readonly historyLength: number;
  readonly historyAge: number;
  readonly historyTtl: number;
  readonly sharded: boolean;
}
