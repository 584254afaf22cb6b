import type { RedisClusterType } from 'redis';
import { type LinkEvents, type RedisLink, retryDelay } from './link.js';

/** A node-redis cluster client, whichever modules it was created with. */
// biome-ignore lint/suspicious/noExplicitAny: node-redis cluster types are parameterised by modules and scripts
export type AnyRedisCluster = RedisClusterType<any, any, any, any, any>;

const BUFFERS = { typeMapping: { 36 /* RESP blob string */: Buffer } } as const;

/**
 * A Redis Cluster through node-redis's cluster client: every command goes to the master that
 * owns its key's slot (node-redis follows MOVED and ASK while a slot migrates), and topics use
 * sharded pub/sub (SPUBLISH/SSUBSCRIBE), whose messages stay on the shard that owns the
 * channel's slot. Classic PUBLISH would work too, but a cluster broadcasts it to every node
 * over the cluster bus, so its cost grows with the cluster instead of with the shard.
 * node-redis resubscribes a sharded channel on its new owner when its slot moves.
 *
 * `up` when the cluster client is ready and every master's connections are; a node's error
 * is reported as `down` (the others keep working: only the failed node's slots wait), and
 * `up` again once all of them are ready, so stream mode reads back what it missed.
 */
export class ClusterLink implements RedisLink {
  private readonly cluster: AnyRedisCluster;
  private readonly owns: boolean;
  private readonly events: LinkEvents;
  private everUp = false;
  private wasUp = false;
  /** Nodes that failed since the link was last up, by address: each outage is reported once. */
  private readonly failing = new Set<string>();
  private closing = false;
  private attempt = 0;

  constructor(cluster: AnyRedisCluster, owns: boolean, events: LinkEvents) {
    this.cluster = cluster;
    this.owns = owns;
    this.events = events;
    cluster.on('connect', this.changed);
    cluster.on('disconnect', this.changed);
    cluster.on('node-ready', this.changed);
    cluster.on('error', (error: Error) => this.failed(error));
    cluster.on('node-error', (error: Error, node: { host: string; port: number }) => {
      const address = `${node.host}:${node.port}`;
      if (this.failing.has(address)) return; // node-redis retries it: one report per outage
      this.failing.add(address);
      this.failed(new Error(`node ${address}: ${error.message || error.name}`));
    });
    cluster.on('sharded-channel-moved-error', (error: Error, channel: string) => {
      this.failed(new Error(`resubscribing ${channel} after its slot moved: ${error.message}`));
    });
    if (cluster.isOpen) this.changed();
    else this.connect();
  }

  get ready(): boolean {
    return this.cluster.isReady;
  }

  command(key: string, args: readonly (string | Buffer)[]): Promise<unknown> {
    return this.cluster.sendCommand(key, false, [...args], BUFFERS as never);
  }

  publish(channel: string, message: Buffer): Promise<unknown> {
    return this.cluster.sPublish(channel, message);
  }

  subscribe(channel: string): Promise<unknown> {
    if (this.closing) return Promise.resolve();
    return this.cluster.sSubscribe(channel, this.received, true).catch(this.unlessClosing);
  }

  /** After `close` there is nothing to unsubscribe from (the server drops its topics after the adapter). */
  unsubscribe(channel: string): Promise<unknown> {
    if (this.closing) return Promise.resolve();
    return this.cluster.sUnsubscribe(channel, this.received, true).catch(this.unlessClosing);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.owns && this.cluster.isOpen) this.cluster.destroy();
  }

  /** node-redis tries the root nodes once per `connect()`: the link keeps trying, with backoff. */
  private connect(): void {
    this.cluster.connect().then(
      () => {
        this.attempt = 0;
      },
      (error: Error) => {
        if (this.closing) return;
        this.failed(error);
        setTimeout(() => this.connect(), retryDelay(this.attempt++)).unref();
      },
    );
  }

  /** A subscription change cut short by `close` is no failure. */
  private readonly unlessClosing = (error: unknown): void => {
    if (!this.closing) throw error;
  };

  private readonly received = (message: Buffer, channel: Buffer | string): void => {
    this.events.message(message, typeof channel === 'string' ? channel : channel.toString('utf8'));
  };

  /** Every master's command and sharded pub/sub connections that exist are ready. */
  private allNodesReady(): boolean {
    for (const master of this.cluster.masters) {
      if (master.client !== undefined && !master.client.isReady) return false;
      if (master.pubSub !== undefined && !master.pubSub.client.isReady) return false;
    }
    return true;
  }

  private readonly changed = (): void => {
    if (this.closing) return;
    const up = this.cluster.isReady && this.allNodesReady();
    if (up && (this.failing.size > 0 || !this.wasUp)) {
      this.failing.clear();
      this.wasUp = true;
      this.events.up(this.everUp);
      this.everUp = true;
    } else if (!this.cluster.isReady) {
      this.wasUp = false;
    }
  };

  private failed(error: Error): void {
    if (this.closing) return;
    this.events.down(error);
  }
}
