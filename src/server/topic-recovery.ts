import type { PreparedMessage } from './prepared.js';
import type { ServerSocket } from './server-socket.js';
import type { TopicAdapter, TopicHistory, TopicPosition, TopicRecovery } from './topic-adapter.js';

/** What the registry lends recovery: the frame of a history message. */
interface Preparer {
  prepare(delivery: TopicHistory['messages'][number]): PreparedMessage;
}

/**
 * One socket catching up on a topic. While its history is being fetched, live messages are
 * held (`held`); after, only messages past `floor` are written, until the topic's live
 * delivery has passed `floor` too and the socket is an ordinary subscriber again.
 */
interface Catchup {
  floor: number;
  held: { message: PreparedMessage; offset: number }[] | null;
}

/** Live messages held for one socket while its history is fetched; past this the recovery fails. */
const MAX_HELD = 10_000;

/**
 * `subscribe(topic, { since })`: replays what a socket missed, then hands it to the live
 * fan-out with no gap and no message twice. Offsets are consecutive per topic, so "missed"
 * is exact: the history must start right after `since`, in the same epoch.
 */
export class Recoveries {
  private readonly byTopic = new Map<string, Map<ServerSocket<unknown>, Catchup>>();
  /** The last position delivered live, per topic with catching-up sockets or a known head. */
  private readonly heads = new Map<string, TopicPosition>();
  readonly counts = { hits: 0, misses: 0 };

  constructor(
    private readonly registry: Preparer,
    private readonly limit: number,
  ) {}

  of(topic: string): ReadonlyMap<ServerSocket<unknown>, Catchup> | undefined {
    return this.byTopic.get(topic);
  }

  begin(
    socket: ServerSocket<unknown>,
    topic: string,
    since: TopicPosition,
    adapter: TopicAdapter | null,
  ): void {
    if (adapter?.ordered !== true || adapter.history === undefined) {
      this.answer(socket, topic, false, 0, 'no history', this.heads.get(topic) ?? null);
      return;
    }
    const catchup: Catchup = { floor: since.offset, held: [] };
    let sockets = this.byTopic.get(topic);
    if (sockets === undefined) this.byTopic.set(topic, (sockets = new Map()));
    sockets.set(socket, catchup);
    adapter.history(topic, since.offset, this.limit + 1).then(
      (history) => this.replay(socket, topic, since, catchup, history),
      () => this.finish(socket, topic, catchup, false, 0, 'unavailable', null),
    );
  }

  /** A live message for a catching-up socket; true if it was written. */
  offer(
    socket: ServerSocket<unknown>,
    topic: string,
    message: PreparedMessage,
    position: TopicPosition | null,
  ): boolean {
    const catchup = this.byTopic.get(topic)?.get(socket);
    if (catchup === undefined) return socket.sendPrepared(message) !== 'dropped';
    const offset = position?.offset ?? Number.POSITIVE_INFINITY;
    if (catchup.held !== null) {
      if (catchup.held.length >= MAX_HELD) {
        // The fetch is far behind the live feed: give up rather than hold without bound.
        this.finish(socket, topic, catchup, false, 0, 'too many', position);
        return socket.sendPrepared(message) !== 'dropped';
      }
      catchup.held.push({ message, offset });
      return true;
    }
    if (offset <= catchup.floor) return false;
    catchup.floor = offset;
    return socket.sendPrepared(message) !== 'dropped';
  }

  /** The topic's live delivery reached `position`: sockets whose replay it has passed rejoin the fan-out. */
  advance(topic: string, position: TopicPosition): void {
    this.heads.set(topic, position);
    const sockets = this.byTopic.get(topic);
    if (sockets === undefined) return;
    for (const [socket, catchup] of sockets) {
      if (catchup.held === null && catchup.floor <= position.offset) sockets.delete(socket);
    }
    if (sockets.size === 0) this.byTopic.delete(topic);
  }

  forget(socket: ServerSocket<unknown>, topic: string): void {
    const sockets = this.byTopic.get(topic);
    if (sockets === undefined) return;
    sockets.delete(socket);
    if (sockets.size === 0) this.byTopic.delete(topic);
  }

  dropTopic(topic: string): void {
    this.byTopic.delete(topic);
    this.heads.delete(topic);
  }

  private replay(
    socket: ServerSocket<unknown>,
    topic: string,
    since: TopicPosition,
    catchup: Catchup,
    history: TopicHistory,
  ): void {
    if (this.byTopic.get(topic)?.get(socket) !== catchup) return; // unsubscribed or closed meanwhile
    const now: TopicPosition = { offset: history.head, epoch: history.epoch };
    const messages = history.messages;
    const reason = this.refusal(since, history);
    if (reason !== null) {
      this.finish(socket, topic, catchup, false, 0, reason, now);
      return;
    }
    let written = 0;
    for (const delivery of messages) {
      const offset = delivery.position?.offset ?? 0;
      if (offset <= catchup.floor) continue;
      catchup.floor = offset;
      socket.sendPrepared(this.registry.prepare(delivery));
      written++;
    }
    const at = Math.max(catchup.floor, history.head);
    this.finish(socket, topic, catchup, true, written, null, { offset: at, epoch: history.epoch });
  }

  /** Why `history` cannot replay what came after `since`, or null when it can. */
  private refusal(since: TopicPosition, history: TopicHistory): string | null {
    const messages = history.messages;
    // Offset 0 asks for the whole history, whatever its epoch.
    if (since.offset > 0 && history.epoch !== since.epoch) return 'epoch changed';
    if (messages.length > this.limit) return 'too many';
    if (history.head > since.offset && messages[0]?.position?.offset !== since.offset + 1)
      return 'history trimmed';
    return null;
  }

  /** Answers the socket, then writes what was held for it past its floor. */
  private finish(
    socket: ServerSocket<unknown>,
    topic: string,
    catchup: Catchup,
    recovered: boolean,
    missed: number,
    reason: string | null,
    position: TopicPosition | null,
  ): void {
    if (!recovered && position !== null && position.offset > catchup.floor) catchup.floor = position.offset;
    this.answer(socket, topic, recovered, missed, reason, position);
    const held = catchup.held ?? [];
    catchup.held = null;
    for (const { message, offset } of held) {
      if (offset <= catchup.floor) continue;
      catchup.floor = offset;
      socket.sendPrepared(message);
    }
    const head = this.heads.get(topic);
    if (head !== undefined) this.advance(topic, head);
  }

  private answer(
    socket: ServerSocket<unknown>,
    topic: string,
    recovered: boolean,
    missed: number,
    reason: string | null,
    position: TopicPosition | null,
  ): void {
    if (recovered) this.counts.hits++;
    else this.counts.misses++;
    const result: TopicRecovery = { topic, recovered, missed, reason, position };
    socket.topicRecovery(result);
  }
}
