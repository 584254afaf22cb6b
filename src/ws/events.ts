import { kForOnEventAttribute, kListener } from './constants.js';

/**
 * The DOM-style events that `addEventListener` listeners and `on<event>` attributes receive,
 * shaped as ws shapes them: read-only getters, `target` set to the WebSocket.
 */
const kTarget = Symbol('target');

/** An event as `addEventListener` listeners get it: `open`, and the base of the others. */
export class Event {
  readonly #type: string;
  /** @internal */
  [kTarget]: unknown = null;
  /** An event of `type`; its target is set when it is dispatched. */
  constructor(type: string) {
    this.#type = type;
  }
  /** The event's name: 'open', 'message', 'close' or 'error'. */
  get type(): string {
    return this.#type;
  }
  /** The WebSocket that dispatched it (null before). */
  get target(): unknown {
    return this[kTarget];
  }
}

/** A message: `data` is a string for text, else as `binaryType` asks. */
export class MessageEvent extends Event {
  readonly #data: unknown;
  /** A message event carrying `options.data`. */
  constructor(type: string, options: { data?: unknown } = {}) {
    super(type);
    this.#data = options.data === undefined ? null : options.data;
  }
  /** The message. */
  get data(): unknown {
    return this.#data;
  }
}

/** The connection closed. */
export class CloseEvent extends Event {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;
  /** A close event with the code, reason and cleanliness given (0, '' and false by default). */
  constructor(type: string, options: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.#code = options.code ?? 0;
    this.#reason = options.reason ?? '';
    this.#wasClean = options.wasClean ?? false;
  }
  /** The close code (1005 without one, 1006 without a close frame). */
  get code(): number {
    return this.#code;
  }
  /** The close reason. */
  get reason(): string {
    return this.#reason;
  }
  /** Whether both close frames crossed. */
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

/** The connection failed, or a client's handshake did. */
export class ErrorEvent extends Event {
  readonly #error: unknown;
  readonly #message: string;
  /** An error event carrying `options.error` and its message. */
  constructor(type: string, options: { error?: unknown; message?: string } = {}) {
    super(type);
    this.#error = options.error === undefined ? null : options.error;
    this.#message = options.message ?? '';
  }
  /** What went wrong. */
  get error(): unknown {
    return this.#error;
  }
  /** The error's message. */
  get message(): string {
    return this.#message;
  }
}

for (const [cls, names] of [
  [Event, ['type', 'target']],
  [MessageEvent, ['data']],
  [CloseEvent, ['code', 'reason', 'wasClean']],
  [ErrorEvent, ['error', 'message']],
] as const) {
  for (const name of names) Object.defineProperty(cls.prototype, name, { enumerable: true });
}

/** A listener as the DOM takes it: a function, or an object with `handleEvent`. */
export type EventListenerLike =
  | ((event: never) => void)
  | {
      /** Called with the event. */
      handleEvent(event: never): void;
    };

// biome-ignore lint/suspicious/noExplicitAny: listeners of any event arguments
type Wrapper = ((...args: any[]) => void) & {
  [kListener]?: unknown;
  [kForOnEventAttribute]?: boolean;
};

/** The emitter the listeners go on, and what it tells them beyond the event's arguments. */
export interface EventSource {
  /** Whether both close frames crossed (for `CloseEvent.wasClean`). */
  readonly closedCleanly: boolean;
  listeners(event: string): unknown[];
  on(event: string, listener: Wrapper): unknown;
  once(event: string, listener: Wrapper): unknown;
  removeListener(event: string, listener: Wrapper): unknown;
}

function dispatch(handler: EventListenerLike, target: unknown, event: Event): void {
  event[kTarget] = target;
  if (typeof handler === 'object' && handler !== null && typeof handler.handleEvent === 'function') {
    handler.handleEvent.call(handler, event as never);
  } else {
    (handler as (event: Event) => void).call(target, event);
  }
}

/** Builds the emitter listener that turns ws's event arguments into a DOM event for `handler`. */
function wrap(type: string, handler: EventListenerLike): Wrapper | null {
  switch (type) {
    case 'message':
      return function onMessage(this: EventSource, data: Buffer, isBinary: boolean) {
        dispatch(handler, this, new MessageEvent('message', { data: isBinary ? data : data.toString() }));
      };
    case 'close':
      return function onClose(this: EventSource, code: number, reason: Buffer) {
        const event = new CloseEvent('close', {
          code,
          reason: reason.toString(),
          wasClean: this.closedCleanly,
        });
        dispatch(handler, this, event);
      };
    case 'error':
      return function onError(this: EventSource, error: Error) {
        dispatch(handler, this, new ErrorEvent('error', { error, message: error.message }));
      };
    case 'open':
      return function onOpen(this: EventSource) {
        dispatch(handler, this, new Event('open'));
      };
    default:
      return null;
  }
}

/** `addEventListener`: once per handler and type (attributes aside); other types are ignored, as in ws. */
export function addEventListener(
  target: EventSource,
  type: string,
  handler: EventListenerLike,
  options: { once?: boolean; [kForOnEventAttribute]?: boolean } = {},
): void {
  const forAttribute = options[kForOnEventAttribute] === true;
  if (!forAttribute) {
    for (const listener of target.listeners(type) as Wrapper[]) {
      if (listener[kListener] === handler && !listener[kForOnEventAttribute]) return;
    }
  }
  const wrapper = wrap(type, handler);
  if (wrapper === null) return;
  wrapper[kForOnEventAttribute] = forAttribute;
  wrapper[kListener] = handler;
  if (options.once) target.once(type, wrapper);
  else target.on(type, wrapper);
}

export function removeEventListener(target: EventSource, type: string, handler: EventListenerLike): void {
  for (const listener of target.listeners(type) as Wrapper[]) {
    if (listener[kListener] === handler && !listener[kForOnEventAttribute]) {
      target.removeListener(type, listener);
      return;
    }
  }
}

/** Defines `onopen`, `onmessage`, `onclose` and `onerror` on a prototype. */
export function defineEventAttributes(prototype: object): void {
  for (const type of ['open', 'error', 'close', 'message']) {
    Object.defineProperty(prototype, `on${type}`, {
      enumerable: true,
      configurable: true,
      get(this: EventSource) {
        for (const listener of this.listeners(type) as Wrapper[]) {
          if (listener[kForOnEventAttribute]) return listener[kListener];
        }
        return null;
      },
      set(this: EventSource, handler: unknown) {
        for (const listener of this.listeners(type) as Wrapper[]) {
          if (listener[kForOnEventAttribute]) {
            this.removeListener(type, listener);
            break;
          }
        }
        if (typeof handler !== 'function') return;
        addEventListener(this, type, handler as EventListenerLike, { [kForOnEventAttribute]: true });
      },
    });
  }
}
