/**
 * What a ReconnectingWebSocket is given and what it fires: how it retries, what it does with
 * sends while offline, and its event map.
 */
import type { BackoffOptions } from './backoff.js';
import type { DropEvent, ReconnectEvent } from './events.js';
import type { WebSocket } from './websocket.js';
import type { WebSocketEventMap, WebSocketOptions } from './websocket-options.js';

/** What `send` does while offline and the queue is full. */
export type QueuePolicy = 'drop-oldest' | 'drop-newest' | 'error';

/** How a lost connection is closed, as `shouldReconnect` sees it. */
export interface Disconnection {
  /** The close code (1006 when the connection was lost without a close frame). */
  readonly code: number;
  /** The close reason (`''` when none). */
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly wasClean: boolean;
}

/** How a {@link ReconnectingWebSocket} retries and what it does with sends while offline. */
export interface ReconnectOptions extends BackoffOptions {
  /** Consecutive failed attempts before giving up (`reconnectfailed`). Default: no limit. */
  readonly maxRetries?: number;
  /** Messages `send` queues while offline (default 1,000). */
  readonly maxQueuedMessages?: number;
  /** Bytes `send` queues while offline (default 1 MiB). */
  readonly maxQueuedBytes?: number;
  /** What happens to a send when the queue is full (default 'drop-oldest'). */
  readonly queuePolicy?: QueuePolicy;
  /**
   * Whether to reconnect after a close the application did not ask for. Default: always,
   * except after a clean close with 1000 (the server meant it) or 1008 (policy violation).
   */
  readonly shouldReconnect?: (closed: Disconnection) => boolean;
  /**
   * Called on every (re)connection once the socket is open, before queued messages are sent
   * and before `open` fires: re-authenticate, re-subscribe. Messages sent on `socket` here go
   * first. When it throws or rejects, the connection is closed (4000) and retried.
   */
  readonly onConnect?: (
    socket: WebSocket,
    info: { attempt: number; reconnected: boolean },
  ) => void | Promise<void>;
}

/** A {@link WebSocket}'s options, plus how to reconnect. */
export interface ReconnectingWebSocketOptions extends WebSocketOptions {
  /** Retry schedule, offline queue and hooks; every field has a default. */
  readonly reconnect?: ReconnectOptions;
}

/** The events a ReconnectingWebSocket fires, by type: a WebSocket's, and its own. */
export interface ReconnectingWebSocketEventMap extends WebSocketEventMap {
  /** A connection was lost or could not be made; the next attempt waits `delay` ms. */
  reconnecting: ReconnectEvent;
  /** A connection is back (after `onConnect`), before its `open`. */
  reconnect: ReconnectEvent;
  /** Retries ran out; `close` follows. */
  reconnectfailed: ReconnectEvent;
  /** The offline queue dropped a message. */
  drop: DropEvent;
}

/** Reconnect unless the server closed cleanly with 1000 (it meant it) or 1008 (policy violation). */
export function defaultShouldReconnect(closed: Disconnection): boolean {
  return !(closed.wasClean && (closed.code === 1000 || closed.code === 1008));
}
