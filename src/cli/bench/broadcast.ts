import { connect } from '../../client/connect.js';
import type { Socket, SocketHandlers } from '../../node/socket.js';
import { Connections, clientOptions } from './connections.js';
import { chatUrl, monotonicMicros, readMarker } from './marker.js';
import type { ModeContext, ModeRun } from './mode.js';

/** How long a chat subscriber waits for "subscribed" before it counts as failed. */
const SUBSCRIBE_MS = 10_000;

interface Subscriber {
  readonly id: number;
  /** The highest publish number received; -1 before the first. */
  last: number;
  /** Resolves the wait for the chat server's "subscribed". */
  subscribed: ((error: Error | null) => void) | null;
}

/**
 * Broadcast mode, the subscribers' side: each connection subscribes (chat: a "subscribe"
 * message and its answer; raw: `--subscribe-message`, if any) and counts the messages that
 * carry the bench marker, with their publish-to-delivery latency. A publish number at or below
 * one already received is an error (a duplicate, or out of order), though it counts as
 * delivered; what never arrives is counted by the primary, which knows how many were published.
 */
export function broadcastMode(context: ModeContext): ModeRun {
  const { plan, tally } = context;
  const connections = new Connections<Subscriber>();
  const chat = plan.format === 'chat';
  /** For each publish number past the watermark: how many subscribers have reached it. */
  const reached = new Map<number, number>();
  let watermark = -1;
  let flushScheduled = false;

  const advance = () => {
    const subscribers = connections.open.size;
    let moved = false;
    while (subscribers > 0 && (reached.get(watermark + 1) ?? 0) >= subscribers) {
      reached.delete(++watermark);
      moved = true;
    }
    if (moved && !flushScheduled) {
      // One message to the primary per turn of the event loop, however many deliveries.
      flushScheduled = true;
      setImmediate(() => {
        flushScheduled = false;
        context.watermark(watermark);
      });
    }
  };

  // The publisher marks what it sends while measuring. Its publishes reach us over the server,
  // the primary's "measure" over IPC: the first measured delivery may come first, and counts.
  const countDelivery = (publishedAt: number) => {
    tally.startMeasuring();
    tally.operation(monotonicMicros() - publishedAt);
  };

  const handlers: SocketHandlers<Subscriber> = {
    message(socket, data, isBinary) {
      const subscriber = socket.data;
      const marked = isBinary ? null : readMarker(data);
      if (marked === null) {
        if (chat && subscriber.subscribed !== null) {
          const text = data.toString('utf8');
          if (text.includes('"type":"subscribed"')) subscriber.subscribed(null);
          else if (text.includes('"type":"error"'))
            subscriber.subscribed(new Error(`the server said ${text}`));
        }
        return;
      }
      if (marked.seq <= subscriber.last) {
        // Delivered all the same (so not counted as missed too), but not in the order published.
        tally.error(
          'order',
          `subscriber ${subscriber.id}: publish ${marked.seq} arrived after ${subscriber.last} (duplicate or out of order)`,
        );
        if (marked.counted) countDelivery(marked.micros);
        return;
      }
      // Every publish number this subscriber skips counts as reached: a lost delivery must
      // not hold the publisher back; the primary counts it as missed.
      for (let seq = Math.max(subscriber.last + 1, watermark + 1); seq <= marked.seq; seq++) {
        reached.set(seq, (reached.get(seq) ?? 0) + 1);
      }
      subscriber.last = marked.seq;
      if (marked.counted) countDelivery(marked.micros);
      advance();
    },
    error(socket, error) {
      if (!connections.closing) tally.error('socket', `subscriber ${socket.data.id}: ${error.message}`);
    },
    close(socket, code, reason) {
      socket.data.subscribed?.(new Error(`closed by the server (${code}${reason ? ` ${reason}` : ''})`));
      // One that never subscribed was counted as a failed connection already.
      if (!connections.open.has(socket)) return;
      connections.remove(socket);
      if (!connections.closing) {
        tally.error(
          'closed',
          `subscriber ${socket.data.id} closed by the server (${code}${reason ? ` ${reason}` : ''})`,
        );
        advance();
      }
    },
  };

  const options = clientOptions<Subscriber>(plan);
  const dial = async (i: number): Promise<Socket<Subscriber>> => {
    const id = plan.index * 1_000_000 + i;
    const data: Subscriber = { id, last: -1, subscribed: null };
    const url = chat ? chatUrl(plan.url, `bench-${plan.index}-${i}`) : plan.url;
    const socket = await connect<Subscriber>(url, { ...options, handlers, data });
    if (!chat) {
      if (plan.subscribeMessage !== null) socket.sendText(plan.subscribeMessage);
      return socket;
    }
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<Error | null>((resolve) => {
      data.subscribed = resolve;
      timer = setTimeout(() => resolve(new Error('no "subscribed" answer within 10 s')), SUBSCRIBE_MS);
    });
    socket.sendText(JSON.stringify({ type: 'subscribe', topic: plan.topic }));
    const error = await answer;
    clearTimeout(timer);
    data.subscribed = null;
    if (error !== null) {
      socket.terminate();
      throw error;
    }
    return socket;
  };

  return {
    prepare: () => connections.openAll(plan.connections, plan.concurrency, dial, tally, plan.url),
    start() {},
    stop: () => connections.closeAll(),
    get open() {
      return connections.open.size;
    },
  };
}
