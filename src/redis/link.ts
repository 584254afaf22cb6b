import type { RedisClientType } from 'redis';

/** A node-redis client, whichever modules it was created with. */
// biome-ignore lint/suspicious/noExplicitAny: node-redis client types are parameterised by modules and scripts
export type AnyRedisClient = RedisClientType<any, any, any, any, any>;

/** What the adapter needs of Redis: commands on a topic's key, publish, and channel subscriptions. */
export interface RedisLink {
  /** Both connections (commands and subscriptions) are up. */
  readonly ready: boolean;
  /** Runs a command on the node owning `key`; blob replies come back as Buffers. */
  command(key: string, args: readonly (string | Buffer)[]): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  close(): Promise<void>;
}

/** What the link tells the adapter. */
export interface LinkEvents {
  message(message: Buffer, channel: string): void;
  /** Both connections are up (again). */
  up(reconnect: boolean): void;
  /** A connection broke or could not be made; it is being retried. */
  down(error: Error): void;
}

/** Reconnection delays: 100 ms doubling to 5 s, with jitter so many nodes do not retry in step. */
export function retryDelay(attempt: number): number {
  const base = Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

// 36 is RESP's blob string type.
const BUFFERS = { typeMapping: { 36: Buffer } } as const;

/**
 * One Redis server (or a Valkey-compatible one): one connection for commands (the user's own
 * client, when given) and a duplicate for subscriptions, which node-redis resubscribes after
 * it reconnects. `sharded` uses SPUBLISH/SSUBSCRIBE instead of PUBLISH/SUBSCRIBE.
 */
export class SingleNodeLink implements RedisLink {
  private readonly commands: AnyRedisClient;
  private readonly subscriber: AnyRedisClient;
  private readonly ownsCommands: boolean;
  private readonly events: LinkEvents;
  private readonly sharded: boolean;
  private everUp = false;
  private wasUp = false;
  private closing = false;

  constructor(commands: AnyRedisClient, ownsCommands: boolean, sharded: boolean, events: LinkEvents) {
    this.commands = commands;
    this.ownsCommands = ownsCommands;
    this.sharded = sharded;
    this.events = events;
    this.subscriber = commands.duplicate({
      socket: { ...commands.options?.socket, reconnectStrategy: retryDelay },
    } as never) as AnyRedisClient;
    for (const client of [this.commands, this.subscriber]) {
      client.on('ready', this.changed);
      client.on('end', this.changed);
      client.on('error', (error: Error) => this.failed(error));
    }
    if (!commands.isOpen) commands.connect().catch(() => {});
    this.subscriber.connect().catch(() => {});
  }

  get ready(): boolean {
    return this.commands.isReady && this.subscriber.isReady;
  }

  command(_key: string, args: readonly (string | Buffer)[]): Promise<unknown> {
    return this.commands.sendCommand([...args], BUFFERS as never);
  }

  publish(channel: string, message: Buffer): Promise<unknown> {
    return this.commands.sendCommand([this.sharded ? 'SPUBLISH' : 'PUBLISH', channel, message]);
  }

  subscribe(channel: string): Promise<unknown> {
    return this.sharded
      ? this.subscriber.sSubscribe(channel, this.received, true)
      : this.subscriber.subscribe(channel, this.received, true);
  }

  unsubscribe(channel: string): Promise<unknown> {
    return this.sharded
      ? this.subscriber.sUnsubscribe(channel, this.received, true)
      : this.subscriber.unsubscribe(channel, this.received, true);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.subscriber.destroy();
    if (!this.ownsCommands) return;
    // Publishes already sent get their replies before the connection goes (e.g. the leave
    // messages of sockets closed by a shutdown); one that cannot connect is not waited for.
    if (this.commands.isReady) await this.commands.close().catch(() => this.commands.destroy());
    else this.commands.destroy();
  }

  private readonly received = (message: Buffer, channel: Buffer | string): void => {
    this.events.message(message, typeof channel === 'string' ? channel : channel.toString('utf8'));
  };

  private readonly changed = (): void => {
    if (this.closing) return;
    const up = this.ready;
    if (up === this.wasUp) return;
    this.wasUp = up;
    if (up) {
      this.events.up(this.everUp);
      this.everUp = true;
    }
  };

  private failed(error: Error): void {
    if (this.closing) return;
    this.wasUp = this.ready;
    this.events.down(error);
  }
}
