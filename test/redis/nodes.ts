// wsx nodes joined by the Redis adapter, and clients that record what they receive.
import {
  connect,
  createServer,
  type Socket,
  type TopicMessage,
  type TopicPosition,
  type TopicRecovery,
  type WebSocketServer,
} from '../../src/index.js';
import {
  createRedisAdapter,
  type RedisAdapterOptions,
  type RedisTopicAdapter,
} from '../../src/redis/index.js';
import { until } from '../shared/wait.js';

export interface Node {
  readonly server: WebSocketServer;
  readonly adapter: RedisTopicAdapter;
  readonly port: number;
  readonly errors: Error[];
}

/** What subscribers of these nodes receive: the payload, with its position in stream mode. */
export interface Received {
  readonly data: string;
  readonly offset?: number;
  readonly epoch?: string;
}

/**
 * A wsx node on `url`: `/t/:topic` subscribes a socket to its topic (with `?offset=&epoch=`, from
 * that position), echoes every text message to the topic as a publish (`!` first: except
 * itself), and writes each recovery outcome as `{"recovery": ...}`.
 */
export async function startNode(url: string, options: RedisAdapterOptions = {}): Promise<Node> {
  const errors: Error[] = [];
  const adapter = await createRedisAdapter({ url, ...options });
  const server = createServer({
    topicAdapter: adapter,
    topicEnvelope: (message: TopicMessage) =>
      JSON.stringify({ data: Buffer.from(message.payload).toString('utf8'), ...message.position }),
  });
  adapter.onError((error) => errors.push(error));
  server.route<{ topic: string; since: TopicPosition | undefined }>('/t/:topic', {
    upgrade: ({ params, query }) => {
      const offset = query.get('offset');
      const since = offset === null ? undefined : { offset: Number(offset), epoch: query.get('epoch') ?? '' };
      return { data: { topic: params.topic!, since } };
    },
    open(socket) {
      socket.subscribe(socket.data.topic, socket.data.since ? { since: socket.data.since } : undefined);
    },
    message(socket, data) {
      const text = data.toString('utf8');
      const exceptSelf = text.startsWith('!');
      socket.publish(socket.data.topic, exceptSelf ? text.slice(1) : text, { exceptSelf });
    },
    recovery(socket: Socket<unknown>, result: TopicRecovery) {
      socket.sendText(JSON.stringify({ recovery: result }));
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, adapter, port, errors };
}

export class Subscriber {
  readonly received: Received[] = [];
  readonly recoveries: TopicRecovery[] = [];
  socket: Socket | null = null;
  closed = false;

  static async open(port: number, topic: string, since?: TopicPosition): Promise<Subscriber> {
    const subscriber = new Subscriber();
    const query = since === undefined ? '' : `?offset=${since.offset}&epoch=${since.epoch}`;
    subscriber.socket = await connect(`ws://127.0.0.1:${port}/t/${topic}${query}`, {
      handlers: {
        message: (_socket, data) => {
          const value = JSON.parse(data.toString('utf8'));
          if (value.recovery !== undefined) subscriber.recoveries.push(value.recovery);
          else subscriber.received.push(value);
        },
        close: () => {
          subscriber.closed = true;
        },
      },
    });
    return subscriber;
  }

  get texts(): string[] {
    return this.received.map((message) => message.data);
  }

  /** The position of the last message received, to resume from. */
  get last(): TopicPosition {
    const last = this.received.at(-1)!;
    return { offset: last.offset!, epoch: last.epoch! };
  }

  send(text: string): void {
    this.socket!.sendText(text);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket!.close(1000);
    await until(10_000, 'the subscriber to close', () => this.closed);
  }
}

/** Waits until both nodes' adapters have a live link (and a subscription has had time to be made). */
export async function linked(...nodes: Node[]): Promise<void> {
  await until(20_000, 'the Redis links', () =>
    nodes.every((node) => node.server.stats().adapter?.linkUp === true),
  );
}

export async function stopAll(nodes: Node[], subscribers: Subscriber[]): Promise<void> {
  for (const subscriber of subscribers) subscriber.socket?.terminate();
  await Promise.all(nodes.map((node) => node.server.close({ timeout: 1_000 })));
}
