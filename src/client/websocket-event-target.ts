/**
 * The event side that WebSocket and ReconnectingWebSocket share: listeners typed by their event
 * map, and the `onopen`, `onmessage`, `onerror` and `onclose` handler attributes.
 */
import {
  CloseEvent,
  ErrorEvent,
  type EventHandler,
  HandlerAttributes,
  type MessageEvent,
  TypedEventTarget,
} from './events.js';
import type { WebSocketEventMap } from './websocket-options.js';

/**
 * An EventTarget with a WebSocket's handler attributes, which call their handler with the
 * target as `this`.
 */
export class WebSocketEventTarget<
  EventMap extends WebSocketEventMap & { [K in keyof EventMap]: Event },
> extends TypedEventTarget<EventMap> {
  readonly #handlers = new HandlerAttributes<this, WebSocketEventMap>(this);

  /** Handler of `open` (fired each time a connection opens); null for none. */
  get onopen(): EventHandler<this, Event> {
    return this.#handlers.get('open');
  }
  /** Sets the `open` handler; a value that is not a function counts as null. */
  set onopen(value: EventHandler<this, Event>) {
    this.#handlers.set('open', value);
  }
  /** Handler of `message`; null for none. */
  get onmessage(): EventHandler<this, MessageEvent> {
    return this.#handlers.get('message');
  }
  /** Sets the `message` handler; a value that is not a function counts as null. */
  set onmessage(value: EventHandler<this, MessageEvent>) {
    this.#handlers.set('message', value);
  }
  /** Handler of `error`; null for none. */
  get onerror(): EventHandler<this, ErrorEvent> {
    return this.#handlers.get('error');
  }
  /** Sets the `error` handler; a value that is not a function counts as null. */
  set onerror(value: EventHandler<this, ErrorEvent>) {
    this.#handlers.set('error', value);
  }
  /** Handler of `close` (fired once, last); null for none. */
  get onclose(): EventHandler<this, CloseEvent> {
    return this.#handlers.get('close');
  }
  /** Sets the `close` handler; a value that is not a function counts as null. */
  set onclose(value: EventHandler<this, CloseEvent>) {
    this.#handlers.set('close', value);
  }
}

/**
 * Fires the end of a connection: `close` as the socket closed or, when the connection failed,
 * `error` (with what failed it) and then `close` with 1006.
 */
export function dispatchClose(
  target: EventTarget,
  failure: unknown,
  wasClean: boolean,
  code: number,
  reason: string,
): void {
  if (failure !== null) {
    const message = failure instanceof Error ? failure.message : String(failure);
    target.dispatchEvent(new ErrorEvent('error', { error: failure, message }));
    target.dispatchEvent(new CloseEvent('close', { wasClean: false, code: 1006, reason: '' }));
  } else {
    target.dispatchEvent(new CloseEvent('close', { wasClean, code, reason }));
  }
}
