/**
 * The event classes of the WHATWG WebSocket interface that Node 20 does not provide as
 * globals (CloseEvent, ErrorEvent), and the MessageEvent it does.
 */

/** The standard EventInit dictionary (not a global type in @types/node). */
export interface EventInit {
  readonly bubbles?: boolean;
  readonly cancelable?: boolean;
  readonly composed?: boolean;
}

export interface CloseEventInit extends EventInit {
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

/** Fired as `close`: the connection has closed (WHATWG WebSockets §"CloseEvent"). */
export class CloseEvent extends Event {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#code = init.code ?? 0;
    this.#reason = init.reason ?? '';
    this.#wasClean = init.wasClean ?? false;
  }

  /** The close code the server sent, 1005 when it sent none, 1006 when the connection failed. */
  get code(): number {
    return this.#code;
  }

  /** The close reason the server sent (UTF-8, at most 123 bytes); `''` when none. */
  get reason(): string {
    return this.#reason;
  }

  /** Whether the closing handshake completed before the TCP connection closed. */
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

export interface ErrorEventInit extends EventInit {
  readonly message?: string;
  readonly error?: unknown;
}

/**
 * Fired as `error`. The standard fires a plain Event; this subclass also says what went
 * wrong (`error` is the Error that failed the connection), which a Node program can log.
 */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #error: unknown;

  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#message = init.message ?? '';
    this.#error = init.error;
  }

  /** A one-line description of what went wrong. */
  get message(): string {
    return this.#message;
  }

  /** The Error that failed the connection (a {@link WebSocketError} when wsx raised it). */
  get error(): unknown {
    return this.#error;
  }
}

/**
 * What a message event carries: a string for a text message; for a binary one, what
 * `binaryType` asks for: a Blob ('blob'), an ArrayBuffer ('arraybuffer') or a Buffer
 * ('nodebuffer').
 */
export type MessageData = string | Blob | ArrayBuffer | Buffer;

/**
 * Fired as `message`: Node's global MessageEvent (so `instanceof MessageEvent` holds), with
 * `data` typed as what a WebSocket delivers instead of `any`.
 */
export class MessageEvent extends globalThis.MessageEvent<MessageData> {
  /** The message: a string for text, else as `binaryType` asks (see {@link MessageData}). */
  declare readonly data: MessageData;
}

export interface ReconnectEventInit extends EventInit {
  /** Which attempt this is (1 for the first retry), or how many were made. */
  readonly attempt?: number;
  /** The wait before the attempt, in milliseconds. */
  readonly delay?: number;
  /** The close code of the connection that was lost, when there was one. */
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

/** Fired by ReconnectingWebSocket as `reconnecting`, `reconnect` and `reconnectfailed`. */
export class ReconnectEvent extends Event {
  /** Which attempt this is (1 for the first retry); on `reconnectfailed`, how many were made. */
  readonly attempt: number;
  /** The wait before the attempt, in milliseconds (0 when it does not apply). */
  readonly delay: number;
  /** The close code of the connection that was lost (0 when there was none). */
  readonly code: number;
  /** The close reason of the connection that was lost (`''` when none). */
  readonly reason: string;
  /** Whether the lost connection had closed cleanly. */
  readonly wasClean: boolean;

  constructor(type: string, init: ReconnectEventInit = {}) {
    super(type, init);
    this.attempt = init.attempt ?? 0;
    this.delay = init.delay ?? 0;
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/** What `send` takes. */
export type SendData = string | ArrayBufferLike | ArrayBufferView | Blob;

export interface DropEventInit extends EventInit {
  readonly data?: SendData;
  /** `drop-oldest` or `drop-newest`: the queue policy that dropped it. */
  readonly policy?: string;
}

/** Fired by ReconnectingWebSocket as `drop` when its offline queue drops a message. */
export class DropEvent extends Event {
  /** The message as given to `send` (or the queue's copy of its bytes). */
  readonly data: SendData;
  /** `drop-oldest` or `drop-newest`: the queue policy that dropped it. */
  readonly policy: string;
  constructor(type: string, init: DropEventInit = {}) {
    super(type, init);
    this.data = init.data ?? '';
    this.policy = init.policy ?? '';
  }
}

/** A listener: a function called with the target as `this`, or an object with `handleEvent`. */
export type Listener<Target, E> =
  | ((this: Target, event: E) => unknown)
  | {
      /** Called with each event. */
      handleEvent(event: E): unknown;
    };

/** An `on…` event handler attribute's value. */
export type EventHandler<Target, E> = ((this: Target, event: E) => unknown) | null;

/** The options of addEventListener (not a global type in @types/node). */
export interface AddEventListenerOptions {
  readonly capture?: boolean;
  readonly once?: boolean;
  readonly passive?: boolean;
  readonly signal?: AbortSignal;
}

type BaseListener = Parameters<EventTarget['addEventListener']>[1];

/**
 * An EventTarget whose addEventListener and removeEventListener know the event class of each
 * type named in `EventMap` (as lib.dom types its WebSocket with WebSocketEventMap); any other
 * type takes a listener of plain Events.
 */
export class TypedEventTarget<EventMap extends { [K in keyof EventMap]: Event }> extends EventTarget {
  /** Adds a listener for `type`, typed with that event's class when the map names it. */
  override addEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: Listener<this, EventMap[K]> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Adds a listener for an event type the map does not name (a plain Event). */
  override addEventListener(
    type: string,
    listener: Listener<this, Event> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener<this, Event> | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as BaseListener, options);
  }

  /** Removes a listener added with the same type, listener and capture flag. */
  override removeEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: Listener<this, EventMap[K]> | null,
    options?: boolean | { readonly capture?: boolean },
  ): void;
  /** Removes a listener of an event type the map does not name. */
  override removeEventListener(
    type: string,
    listener: Listener<this, Event> | null,
    options?: boolean | { readonly capture?: boolean },
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener<this, Event> | null,
    options?: boolean | { readonly capture?: boolean },
  ): void {
    super.removeEventListener(type, listener as BaseListener, options);
  }
}

type Handler = (this: EventTarget, event: Event) => unknown;

/**
 * Event handler IDL attributes (`onopen`, `onmessage`...) for an EventTarget, as HTML
 * specifies them: the first non-null value adds one listener, which keeps its place among the
 * listeners while the value changes; null removes it; a value that is not a function is null.
 */
export class HandlerAttributes<Target extends EventTarget, EventMap> {
  readonly #target: Target;
  readonly #slots = new Map<string, { value: Handler; listener: (event: Event) => void }>();

  constructor(target: Target) {
    this.#target = target;
  }

  get<K extends keyof EventMap & string>(type: K): EventHandler<Target, EventMap[K]> {
    return (this.#slots.get(type)?.value ?? null) as EventHandler<Target, EventMap[K]>;
  }

  set(type: keyof EventMap & string, value: unknown): void {
    const handler = typeof value === 'function' ? (value as Handler) : null;
    const slot = this.#slots.get(type);
    if (handler === null) {
      if (slot !== undefined) {
        this.#target.removeEventListener(type, slot.listener);
        this.#slots.delete(type);
      }
      return;
    }
    if (slot !== undefined) {
      slot.value = handler;
      return;
    }
    const target = this.#target;
    const entry = {
      value: handler,
      listener: (event: Event) => {
        entry.value.call(target, event);
      },
    };
    this.#slots.set(type, entry);
    target.addEventListener(type, entry.listener);
  }
}
