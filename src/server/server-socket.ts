import {
  type SendStatus,
  Socket,
  type SocketHandlers,
  type SocketInit,
  type SocketOwner,
  toBytes,
} from '../node/socket.js';
import { hasTopic, type OwnTopics, topicList } from './own-topics.js';
import type { PreparedMessage } from './prepared.js';
import type { SubscribeOptions, TopicRecovery } from './topic-types.js';

/** The handlers of a server route: a socket's, given the server's socket, and `recovery`. */
export interface ServerHandlers<Data = unknown> extends SocketHandlers<Data, ServerSocket<Data>> {
  /**
   * The outcome of `subscribe(topic, { since })`, after the missed messages were written and
   * before any later one; also told when a subscription lost messages that cannot be replayed
   * (`recovered` false).
   */
  recovery?(socket: ServerSocket<Data>, result: TopicRecovery): void;
}

/** What a server socket's topic methods use: the server's topic registry (`topics.ts`). */
export interface TopicHub {
  subscribe(socket: ServerSocket<unknown>, topic: string, options?: SubscribeOptions): boolean;
  unsubscribe(socket: ServerSocket<unknown>, topic: string): boolean;
  publish(
    topic: string,
    data: string | Uint8Array,
    binary: boolean | undefined,
    origin: ServerSocket<unknown> | null,
  ): number;
}

/** The owner of server sockets: the server, with its topic registry. */
export interface ServerSocketOwner extends SocketOwner {
  readonly topicHub: TopicHub;
}

/** What a server socket is made with: the node socket's facts, and the server (with its topics). */
export interface ServerSocketInit<Data> extends SocketInit<Data> {
  readonly handlers: ServerHandlers<Data>;
  readonly owner: ServerSocketOwner;
}

/** A socket a server accepted: the node socket, with topics (subscribe, publish, recovery). */
export class ServerSocket<Data = unknown> extends Socket<Data> {
  /** @internal This socket's topics (`own-topics.ts`); null until its first subscribe. */
  topics: OwnTopics = null;
  /** @internal Its slot in the subscribers of its one topic (`subscribers.ts`); -1 with none or several. */
  topicSlot = -1;
  /** @internal Its neighbours in the server's list of open sockets (`socket-list.ts`). */
  listPrev: ServerSocket<unknown> | null = null;
  /** @internal */
  listNext: ServerSocket<unknown> | null = null;

  constructor(init: ServerSocketInit<Data>) {
    super(init);
  }

  /** The server's topic registry, through the server (one reference less on every socket). */
  private get hub(): TopicHub {
    return (this.owner as ServerSocketOwner).topicHub;
  }

  /**
   * Subscribes to `topic`: messages published to it are sent to this socket. False if it already
   * was. With `since` (the last position this client saw, from a topic adapter that keeps
   * history), the messages it missed are written first; the route's `recovery` handler is told
   * how that went.
   */
  subscribe(topic: string, options?: SubscribeOptions): boolean {
    return this.hub.subscribe(this as ServerSocket<unknown>, topic, options);
  }

  /** Unsubscribes from `topic`; false if it was not subscribed. Closing unsubscribes from everything. */
  unsubscribe(topic: string): boolean {
    return this.hub.unsubscribe(this as ServerSocket<unknown>, topic);
  }

  /** Whether this socket is subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return hasTopic(this.topics, topic);
  }

  /** The topics this socket is subscribed to. */
  get subscriptions(): string[] {
    return topicList(this.topics);
  }

  /**
   * Publishes to every subscriber of `topic` (this socket too if it is one, unless
   * `exceptSelf`). Types as in `send`. The message is framed once for all of them. Returns
   * how many sockets of this server it was written to.
   */
  publish(
    topic: string,
    data: string | ArrayBufferView | ArrayBuffer,
    options?: { readonly binary?: boolean; readonly exceptSelf?: boolean },
  ): number {
    return this.hub.publish(
      topic,
      typeof data === 'string' ? data : toBytes(data),
      options?.binary,
      options?.exceptSelf === true ? (this as ServerSocket<unknown>) : null,
    );
  }

  /**
   * Sends a message framed once for many sockets (a topic publish builds one and every
   * subscriber writes the same Buffer), compressed once per parameter set where this socket's
   * permessage-deflate allows. As `sendFrame` otherwise.
   */
  sendPrepared(message: PreparedMessage): SendStatus {
    return this.sendFrame(message.frame(this.sharedCompression));
  }

  /** @internal Tells the route's `recovery` handler what became of a subscription's history. */
  topicRecovery(result: TopicRecovery): void {
    this.callHandler((this.handlers as ServerHandlers<Data>).recovery, 'recovery', result);
  }
}
