/**
 * wsx/redis: topics across processes and machines over Redis (or a Valkey-compatible server).
 * Needs the `redis` package (node-redis), an optional peer dependency of wsx.
 *
 * @module wsx/redis
 */
import type { RedisClusterOptions } from 'redis';
import { RedisTopicAdapter } from './adapter.js';
import { type AnyRedisCluster, ClusterLink } from './cluster-link.js';
import { type AnyRedisClient, retryDelay, SingleNodeLink } from './link.js';
import type { RedisTopicMode } from './settings.js';

export { RedisTopicAdapter } from './adapter.js';
export type { AnyRedisCluster } from './cluster-link.js';
export { EnvelopeError } from './envelope.js';
export { PublishRefusedError } from './outbox.js';
export type { RedisTopicMode } from './settings.js';

/** Options of {@link createRedisAdapter}; every field has a default. Give at most one of `url`, `client` and `cluster`. */
export interface RedisAdapterOptions {
  /** A `redis://` or `rediss://` URL; or give `client`. Default `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /** A node-redis client you already have (connected or not); the adapter duplicates it for subscriptions and never closes it. */
  readonly client?: AnyRedisClient;
  /**
   * A Redis Cluster instead of one server: node-redis's cluster options (at least `rootNodes`,
   * e.g. `[{ url: 'redis://10.0.0.1:7000' }]`; credentials and TLS go in `defaults`), or a
   * cluster client you already have (`createCluster`, connected or not; never closed by the
   * adapter). Topics then always use sharded pub/sub, and each topic's commands and messages
   * go to the master owning its slot. A failed master holds up only its own topics: their
   * publishes fail after node-redis's command timeout (5 s by default) and are counted as
   * failed, while the others carry on.
   */
  readonly cluster?: Pick<RedisClusterOptions, 'rootNodes' | 'defaults'> | AnyRedisCluster;
  /** `pubsub` (the default): at most once, lowest latency. `stream`: offsets, bounded history, recovery. */
  readonly mode?: RedisTopicMode;
  /** Prefix of every channel and key. Default `wsx:`. */
  readonly prefix?: string;
  /** Publishes held while the link is down; past this they are refused. Default 10,000. */
  readonly maxQueued?: number;
  /** Bytes held while the link is down; past this publishes are refused. Default 16 MiB. */
  readonly maxQueuedBytes?: number;
  /** Largest payload taken from (or given to) Redis; a bigger one is refused and counted. Default 16 MiB. */
  readonly maxPayload?: number;
  /** Stream mode: messages kept per topic (about: trimmed with `MAXLEN ~`). Default 1,000. */
  readonly historyLength?: number;
  /** Stream mode: ms a message is kept (0: no age limit). Default 0. */
  readonly historyAge?: number;
  /** Stream mode: seconds without a publish after which a topic's history is deleted (its epoch with it). Default 86,400. */
  readonly historyTtl?: number;
  /** SPUBLISH/SSUBSCRIBE (sharded pub/sub) instead of PUBLISH/SUBSCRIBE. Default false on a single node; always true on a cluster. */
  readonly sharded?: boolean;
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return v;
}

/**
 * A topic adapter over Redis, for `createServer({ topicAdapter })`. Returns at once: the link
 * comes up in the background, retried with backoff for as long as it takes (publishes wait
 * in a bounded queue meanwhile, and failures are reported through the server's error report).
 *
 * @throws RangeError (as a rejection) for an unknown `mode` or a limit that is not an integer
 *   in range; TypeError for a `prefix` that is not a string, more than one of `url`, `client`
 *   and `cluster`, or a cluster without `rootNodes`; Error when the `redis` package cannot be
 *   loaded.
 * @example
 * ```ts
 * import { createServer } from 'wsx';
 * import { createRedisAdapter } from 'wsx/redis';
 * const topicAdapter = await createRedisAdapter({ url: 'redis://127.0.0.1:6379', mode: 'stream' });
 * const server = createServer({ topicAdapter });
 * server.route('/chat', { open: (socket) => socket.subscribe('lobby') });
 * await server.listen({ port: 8080 });
 * ```
 */
export async function createRedisAdapter(options: RedisAdapterOptions = {}): Promise<RedisTopicAdapter> {
  const mode = options.mode ?? 'pubsub';
  if (mode !== 'pubsub' && mode !== 'stream')
    throw new RangeError(`mode must be 'pubsub' or 'stream', got ${String(mode)}`);
  const prefix = options.prefix ?? 'wsx:';
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  const settings = {
    mode,
    prefix,
    maxQueued: positive('maxQueued', options.maxQueued, 10_000, 0),
    maxQueuedBytes: positive('maxQueuedBytes', options.maxQueuedBytes, 16 * 1024 * 1024, 0),
    maxPayload: positive('maxPayload', options.maxPayload, 16 * 1024 * 1024),
    historyLength: positive('historyLength', options.historyLength, 1_000),
    historyAge: positive('historyAge', options.historyAge, 0, 0),
    historyTtl: positive('historyTtl', options.historyTtl, 86_400, 0),
    sharded: options.cluster !== undefined || (options.sharded ?? false),
  };
  if (options.cluster !== undefined) {
    if (options.url !== undefined || options.client !== undefined) {
      throw new TypeError('give one of url, client and cluster');
    }
    return clusterAdapter(options.cluster, settings);
  }
  let client = options.client;
  const owns = client === undefined;
  if (client === undefined) {
    const redis = await loadRedis();
    client = redis.createClient({
      url: options.url ?? 'redis://127.0.0.1:6379',
      socket: { reconnectStrategy: retryDelay },
    }) as AnyRedisClient;
  }
  const adapter = new RedisTopicAdapter(settings);
  const given = client;
  adapter.attach((events) => new SingleNodeLink(given, owns, settings.sharded, events));
  return adapter;
}

async function clusterAdapter(
  given: NonNullable<RedisAdapterOptions['cluster']>,
  settings: ConstructorParameters<typeof RedisTopicAdapter>[0],
): Promise<RedisTopicAdapter> {
  let cluster: AnyRedisCluster;
  const owns = !isClusterClient(given);
  if (isClusterClient(given)) {
    cluster = given;
  } else {
    if (!Array.isArray(given.rootNodes) || given.rootNodes.length === 0) {
      throw new TypeError('cluster.rootNodes must list at least one node');
    }
    const redis = await loadRedis();
    cluster = redis.createCluster({
      rootNodes: given.rootNodes,
      defaults: { ...given.defaults, socket: { ...given.defaults?.socket, reconnectStrategy: retryDelay } },
    } as RedisClusterOptions) as unknown as AnyRedisCluster;
  }
  const adapter = new RedisTopicAdapter(settings);
  adapter.attach((events) => new ClusterLink(cluster, owns, events));
  return adapter;
}

function isClusterClient(value: NonNullable<RedisAdapterOptions['cluster']>): value is AnyRedisCluster {
  return typeof (value as AnyRedisCluster).sSubscribe === 'function';
}

async function loadRedis(): Promise<typeof import('redis')> {
  try {
    return await import('redis');
  } catch (error) {
    throw new Error(`wsx/redis needs the 'redis' package (npm install redis): ${(error as Error).message}`);
  }
}
