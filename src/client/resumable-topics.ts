import type { ReconnectingWebSocket } from './reconnect.js';

/** A topic's last position as the server's messages carried it (`wsx serve --redis-mode stream`). */
export interface ResumePosition {
  /** The topic's offset of the last message seen (1, 2, 3, ...). */
  readonly offset: number;
  /** The history the offset belongs to; a new epoch means the history was lost. */
  readonly epoch: string;
}

/** A JSON message of `wsx serve`'s chat protocol, as it arrived. */
export type ChatProtocolMessage = {
  /** The message kind, e.g. `message`, `recovery`, `subscribed`. */
  readonly type: string;
  /** The topic it concerns, when it concerns one. */
  readonly topic?: string;
} & Record<string, unknown>;

const OPEN = 1;

/**
 * Topics of `wsx serve`'s JSON protocol (`/chat`) over a `ReconnectingWebSocket`, resumed
 * after every reconnect, to the same node or another: each subscribe after the first one
 * carries the last position seen (`since`), so the server replays exactly what was missed,
 * or answers `recovery` with `recovered: false` when its history no longer covers the gap.
 * Events: `message` (every protocol message, as a `CustomEvent` whose `detail` is the parsed
 * object) and `recovery` (the same, for recovery answers).
 */
export class ResumableTopics extends EventTarget {
  readonly #socket: ReconnectingWebSocket;
  readonly #positions = new Map<string, ResumePosition | null>();

  constructor(socket: ReconnectingWebSocket) {
    super();
    this.#socket = socket;
    socket.addEventListener('open', () => {
      for (const topic of this.#positions.keys()) this.#sendSubscribe(topic);
    });
    socket.addEventListener('message', (event) => this.#received((event as MessageEvent).data));
  }

  /** Subscribes now if the socket is open, and again after every reconnect. */
  subscribe(topic: string): void {
    if (this.#positions.has(topic)) return;
    this.#positions.set(topic, null);
    if (this.#socket.readyState === OPEN) this.#sendSubscribe(topic);
  }

  /** Unsubscribes now if the socket is open, and stops resubscribing after reconnects. */
  unsubscribe(topic: string): void {
    if (!this.#positions.delete(topic)) return;
    if (this.#socket.readyState === OPEN) this.#socket.send(JSON.stringify({ type: 'unsubscribe', topic }));
  }

  /** Publishes `data` (any JSON value); while offline it waits in the socket's queue. */
  publish(topic: string, data: unknown, options: { readonly exceptSelf?: boolean } = {}): void {
    this.#socket.send(
      JSON.stringify({ type: 'publish', topic, data, exceptSelf: options.exceptSelf === true }),
    );
  }

  /** The last position seen on `topic` (null before the first positioned message). */
  position(topic: string): ResumePosition | null {
    return this.#positions.get(topic) ?? null;
  }

  #sendSubscribe(topic: string): void {
    const since = this.#positions.get(topic);
    this.#socket.send(
      JSON.stringify(since ? { type: 'subscribe', topic, since } : { type: 'subscribe', topic }),
    );
  }

  #received(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: ChatProtocolMessage;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const topic = message.topic;
    if (typeof topic === 'string' && this.#positions.has(topic)) {
      const position = message.type === 'recovery' ? message.position : message;
      const { offset, epoch } = (position ?? {}) as Partial<ResumePosition>;
      if (Number.isSafeInteger(offset) && typeof epoch === 'string') {
        this.#positions.set(topic, { offset: offset as number, epoch });
      }
    }
    this.dispatchEvent(
      new CustomEvent(message.type === 'recovery' ? 'recovery' : 'message', { detail: message }),
    );
  }
}
