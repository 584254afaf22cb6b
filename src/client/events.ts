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

  get message(): string {
    return this.#message;
  }

  get error(): unknown {
    return this.#error;
  }
}

/** Node's global MessageEvent (the one browsers have). */
export const MessageEvent: typeof globalThis.MessageEvent = globalThis.MessageEvent;
export type MessageEvent = globalThis.MessageEvent;

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
  readonly attempt: number;
  readonly delay: number;
  readonly code: number;
  readonly reason: string;
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

export interface DropEventInit extends EventInit {
  readonly data?: unknown;
  /** `drop-oldest` or `drop-newest`: the queue policy that dropped it. */
  readonly policy?: string;
}

/** Fired by ReconnectingWebSocket as `drop` when its offline queue drops a message. */
export class DropEvent extends Event {
  readonly data: unknown;
  readonly policy: string;
  constructor(type: string, init: DropEventInit = {}) {
    super(type, init);
    this.data = init.data;
    this.policy = init.policy ?? '';
  }
}

type Handler = ((this: never, event: Event) => unknown) | null;

/**
 * Event handler IDL attributes (`onopen`, `onmessage`...) for an EventTarget, as HTML
 * specifies them: the first non-null value adds one listener, which keeps its place among the
 * listeners while the value changes; null removes it; a value that is not a function is null.
 */
export class HandlerAttributes {
  readonly #target: EventTarget;
  readonly #slots = new Map<string, { value: Handler; listener: (event: Event) => void }>();

  constructor(target: EventTarget) {
    this.#target = target;
  }

  get(type: string): Handler {
    return this.#slots.get(type)?.value ?? null;
  }

  set(type: string, value: unknown): void {
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
        (entry.value as ((this: EventTarget, event: Event) => unknown) | null)?.call(target, event);
      },
    };
    this.#slots.set(type, entry);
    target.addEventListener(type, entry.listener);
  }
}
