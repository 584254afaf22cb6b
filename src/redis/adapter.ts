import { OperationalNotice } from '../server/errors.js';
import type {
  AdapterStats,
  TopicAdapter,
  TopicDelivery,
  TopicHistory,
  TopicPosition,
} from '../server/topic-adapter.js';
import { decodeEnvelope, type Envelope, EnvelopeError, headerOf, newNodeId, toDelivery } from './envelope.js';
import type { LinkEvents, RedisLink } from './link.js';
import { Outbox, PublishRefusedError } from './outbox.js';
import { RecentMax } from './recent-max.js';
import { runScript } from './scripts.js';
import type { RedisAdapterSettings } from './settings.js';
import { StreamOrder } from './stream-order.js';

type Deliver = (topic: string, payload: Uint8Array, isBinary: boolean, delivery?: TopicDelivery) => void;

/**
 * Topics across processes and machines over Redis. `pubsub`: the registry writes a publish to
 * local subscribers itself and the adapter PUBLISHes it for the other nodes, at most once.
 * `stream`: every publish goes through one Lua script that appends it to the topic's stream
 * (its offset) and publishes it on the topic's channel, and every node, the publisher
 * included, writes it to its subscribers when it comes back, in offset order with gaps read
 * back from the stream (`StreamOrder`). While the link is down publishes wait in a bounded
 * queue; past it they are refused, counted and reported.
 */
export class RedisTopicAdapter implements TopicAdapter {
  /** True in `stream` mode: every message, this node's own included, comes back with its position. */
  readonly ordered: boolean;
  /** This adapter's random id, which tells its own messages among those coming back from Redis. */
  readonly node = newNodeId();
  private readonly settings: RedisAdapterSettings;
  private link: RedisLink | null = null;
  private readonly outbox: Outbox;
  private readonly order: StreamOrder | null;
  private readonly subscribed = new Set<string>();
  /** Own publishes on their way, by sequence number: their origin comes back with them. */
  private readonly inflight = new Map<number, { topic: string; origin: unknown }>();
  private seq = 0;
  /** Epochs this adapter has offered for a topic whose stream turns out to be new. */
  private epochsOffered = 0;
  private deliverTo: Deliver | null = null;
  private resetTo: ((topic: string, position: TopicPosition | null, reason: string) => void) | null = null;
  private reportTo: (error: Error) => void = (error) => console.error(`wsx: redis: ${error.message}`);
  private up = false;
  private closed = false;
  private lastError = '';
  /** Publish-to-receive lag: the highest of the last 10 to 20 s, the same for every reader. */
  private readonly lag = new RecentMax(10_000);
  /** What the adapter has done since it was made (also in `server.stats().adapter`). */
  readonly counters = {
    /** Publishes Redis took. */
    published: 0,
    /** Messages received from Redis for topics subscribed here. */
    received: 0,
    /** Publishes refused before reaching Redis: over `maxPayload`, queue full, or adapter closed. */
    refused: 0,
    /** Publishes Redis did not take (a command error or timeout). */
    failed: 0,
    /** Messages from Redis refused as malformed, of the other mode, or over `maxPayload`. */
    invalid: 0,
    /** Stream mode: messages received again at an offset already delivered, and skipped. */
    duplicates: 0,
    /** Stream mode: messages read back from a topic's stream to fill a gap. */
    gapsRepaired: 0,
    /** Stream mode: times a topic's history was lost or trimmed past a gap, and its subscribers told. */
    resets: 0,
    /** Times the link came back after being lost. */
    reconnects: 0,
    /** Stream mode: history reads (for recovery or to fill gaps). */
    historyReads: 0,
  };

  constructor(settings: RedisAdapterSettings) {
    this.settings = settings;
    this.ordered = settings.mode === 'stream';
    this.outbox = new Outbox(settings.maxQueued, settings.maxQueuedBytes);
    this.order = this.ordered ? new StreamOrder(this.orderingHost()) : null;
  }

  /** @internal Connects the adapter to its link (made by `createRedisAdapter`). */
  attach(makeLink: (events: LinkEvents) => RedisLink): void {
    this.link = makeLink({
      message: (message, channel) => this.received(message, channel),
      up: (reconnect) => this.linkUp(reconnect),
      down: (error) => this.linkDown(error),
    });
  }

  onMessage(deliver: Deliver): void {
    this.deliverTo = deliver;
  }

  onReset(reset: (topic: string, position: TopicPosition | null, reason: string) => void): void {
    this.resetTo = reset;
  }

  onError(report: (error: Error) => void): void {
    this.reportTo = report;
  }

  subscribe(topic: string): void {
    this.subscribed.add(topic);
    this.order?.add(topic);
    // While the link is down node-redis queues this, and it resubscribes after a reconnect.
    this.link?.subscribe(this.channel(topic)).catch(this.reportUnlessClosed);
  }

  unsubscribe(topic: string): void {
    this.subscribed.delete(topic);
    this.order?.remove(topic);
    for (const [seq, entry] of this.inflight) if (entry.topic === topic) this.inflight.delete(seq);
    this.link?.unsubscribe(this.channel(topic)).catch(this.reportUnlessClosed);
  }

  publish(
    topic: string,
    payload: Uint8Array,
    isBinary: boolean,
    origin?: unknown,
  ): Promise<TopicPosition | null> {
    if (this.closed) return Promise.reject(new PublishRefusedError('the Redis topic adapter is closed'));
    const limit = this.settings.maxPayload;
    if (payload.length > limit) {
      this.counters.refused++;
      return Promise.reject(
        new PublishRefusedError(`message of ${payload.length} bytes is over the limit of ${limit}`),
      );
    }
    const seq = ++this.seq;
    const header = headerOf(this.ordered ? 's' : 'p', isBinary, this.node, seq, Date.now());
    const bytes = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    return new Promise((resolve, reject) => {
      const send = () => {
        if (this.ordered && this.subscribed.has(topic) && origin != null)
          this.inflight.set(seq, { topic, origin });
        this.send(topic, header, bytes).then(
          (position) => {
            this.counters.published++;
            if (!this.subscribed.has(topic)) this.inflight.delete(seq);
            resolve(position);
          },
          (error: Error) => {
            this.counters.failed++;
            this.inflight.delete(seq);
            reject(new PublishRefusedError(`publish to ${topic} failed: ${error.message}`));
          },
        );
      };
      const refuse = (error: Error) => {
        this.counters.refused++;
        reject(error);
      };
      if (this.up && this.outbox.length === 0) return send();
      if (!this.outbox.add({ send, refuse, bytes: bytes.length })) {
        refuse(
          new PublishRefusedError(
            `Redis link down and the queue is full (${this.outbox.length} messages, ${this.outbox.queuedBytes} bytes): publish to ${topic} refused`,
          ),
        );
      }
    });
  }

  /** Up to `limit` messages of `topic` after `afterOffset`, with the topic's epoch and head. */
  async history(topic: string, afterOffset: number, limit: number): Promise<TopicHistory> {
    const link = this.link;
    if (link === null || !this.up) throw new Error('Redis link down');
    this.counters.historyReads++;
    const reply = (await runScript(link, 'history', this.channel(topic), [
      String(afterOffset + 1),
      String(limit),
    ])) as [Buffer, Buffer, [Buffer, Buffer[]][]];
    const epoch = reply[0].toString('latin1');
    const head = Number.parseInt(reply[1].toString('latin1'), 10);
    const messages: TopicDelivery[] = [];
    for (const [, fields] of reply[2]) {
      const raw = fields[3];
      const envelope = raw === undefined ? null : this.decode(raw, topic);
      if (envelope === null) continue;
      messages.push(toDelivery(topic, envelope));
    }
    return { epoch, head, messages };
  }

  stats(): AdapterStats {
    const c = this.counters;
    return {
      kind: 'redis',
      mode: this.settings.mode,
      node: this.node,
      linkUp: this.up,
      lastError: this.lastError || null,
      reconnectsTotal: c.reconnects,
      publishedTotal: c.published,
      receivedTotal: c.received,
      queued: this.outbox.length,
      queuedBytes: this.outbox.queuedBytes,
      refusedTotal: c.refused,
      failedTotal: c.failed,
      invalidTotal: c.invalid,
      duplicatesTotal: c.duplicates,
      gapsRepairedTotal: c.gapsRepaired,
      resetsTotal: c.resets,
      historyReadsTotal: c.historyReads,
      maxLagMs: this.lag.read(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.outbox.refuseAll(
      new PublishRefusedError('the Redis topic adapter closed before the link came back'),
    );
    await this.link?.close();
  }

  private channel(topic: string): string {
    return this.settings.prefix + topic;
  }

  private send(topic: string, header: string, payload: Buffer): Promise<TopicPosition | null> {
    const link = this.link!;
    const channel = this.channel(topic);
    if (!this.ordered) {
      return link.publish(channel, Buffer.concat([Buffer.from(header, 'latin1'), payload])).then(() => null);
    }
    const s = this.settings;
    return runScript(link, 'publish', channel, [
      header,
      payload,
      this.newEpoch(),
      String(s.historyLength),
      String(s.historyAge),
      String(s.historyTtl),
      s.sharded ? '1' : '0',
    ]).then((reply) => {
      const [offset, epoch] = reply as [number, Buffer];
      return { offset: Number(offset), epoch: epoch.toString('latin1') };
    });
  }

  /**
   * The epoch offered with a publish, taken when the topic's stream does not exist yet. Each
   * must differ from every epoch a topic ever had, so clients of a lost history are never
   * told they recovered: the adapter's random id (fixed width) and a count of its offers.
   * Cheaper than drawing random bytes for every publish, and just as unique.
   */
  private newEpoch(): string {
    return this.node.padStart(13, '0') + (++this.epochsOffered).toString(36);
  }

  private received(message: Buffer, channel: string): void {
    const prefix = this.settings.prefix;
    if (!channel.startsWith(prefix)) return;
    const topic = channel.slice(prefix.length);
    if (!this.subscribed.has(topic)) return;
    const envelope = this.decode(message, topic);
    if (envelope === null) return;
    this.counters.received++;
    this.lag.record(Date.now() - envelope.time);
    if (this.order !== null) this.order.receive(topic, envelope);
    // In pub/sub mode a node's own message was written here when it was published.
    else if (envelope.node !== this.node) this.deliverTo?.(topic, envelope.payload, envelope.isBinary);
  }

  private decode(message: Buffer, topic: string): Envelope | null {
    try {
      const envelope = decodeEnvelope(message, this.settings.maxPayload);
      if (envelope.mode !== (this.ordered ? 's' : 'p')) {
        throw new EnvelopeError(
          `a ${envelope.mode === 's' ? 'stream' : 'pubsub'}-mode message in ${this.settings.mode} mode`,
        );
      }
      return envelope;
    } catch (error) {
      this.counters.invalid++;
      this.reportError(
        new Error(`refused a message on topic ${JSON.stringify(topic)}: ${(error as Error).message}`),
      );
      return null;
    }
  }

  private orderingHost() {
    return {
      counters: this.counters,
      history: (topic: string, after: number, limit: number) => this.history(topic, after, limit),
      deliver: (topic: string, message: Envelope | TopicDelivery) => {
        let delivery: TopicDelivery;
        if ('node' in message) {
          const own = message.node === this.node ? this.inflight.get(message.seq) : undefined;
          if (own !== undefined) this.inflight.delete(message.seq);
          delivery = { ...toDelivery(topic, message), origin: own?.origin ?? null };
        } else {
          delivery = message;
        }
        this.deliverTo?.(topic, delivery.payload, delivery.isBinary, delivery);
      },
      reset: (topic: string, position: TopicPosition | null, reason: string) =>
        this.resetTo?.(topic, position, reason),
      failed: (topic: string, error: unknown) => {
        if (this.up) {
          this.reportError(
            new Error(`reading the history of ${JSON.stringify(topic)} failed: ${(error as Error).message}`),
          );
          setTimeout(() => this.order?.resync(topic), 1_000).unref();
        }
      },
    };
  }

  private linkUp(reconnect: boolean): void {
    if (this.closed) return;
    this.up = true;
    if (reconnect) {
      this.counters.reconnects++;
      this.reportTo(new OperationalNotice('Redis link is back'));
    }
    this.order?.resync();
    this.outbox.flush();
  }

  private linkDown(error: Error): void {
    if (this.closed) return;
    const message = error.message || error.name;
    const wasUp = this.up;
    this.up = this.link?.ready ?? false;
    // One report per outage (and per new kind of failure), not one per retry.
    if (wasUp || message !== this.lastError) {
      this.reportTo(new OperationalNotice(`Redis link ${wasUp ? 'lost' : 'down'}: ${message}; retrying`));
    }
    this.lastError = message;
  }

  private readonly reportError = (error: Error): void => {
    this.reportTo(error);
  };

  /** A (un)subscribe that `close` cut short by destroying the link: the shutdown meant that. */
  private readonly reportUnlessClosed = (error: Error): void => {
    if (!this.closed) this.reportTo(error);
  };
}
