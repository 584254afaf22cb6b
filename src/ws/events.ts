import { kForOnEventAttribute, kListener } from './constants.js';

/**
 * The DOM-style events that `addEventListener` listeners and `on<event>` attributes receive,
 * shaped as ws shapes them: read-only getters, `target` set to the WebSocket.
 */
const kTarget = Symbol('target');

export class Event {
  readonly #type: string;
  [kTarget]: unknown = null;
  constructor(type: string) {
    this.#type = type;
  }
  get type(): string {
    return this.#type;
  }
  get target(): unknown {
    return this[kTarget];
  }
}

export class MessageEvent extends Event {
  readonly #data: unknown;
  constructor(type: string, options: { data?: unknown } = {}) {
    super(type);
    this.#data = options.data === undefined ? null : options.data;
  }
  get data(): unknown {
    return this.#data;
  }
}

export class CloseEvent extends Event {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;
  constructor(type: string, options: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.#code = options.code ?? 0;
    this.#reason = options.reason ?? '';
    this.#wasClean = options.wasClean ?? false;
  }
  get code(): number {
    return this.#code;
  }
  get reason(): string {
    return this.#reason;
  }
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

export class ErrorEvent extends Event {
  readonly #error: unknown;
  readonly #message: string;
  constructor(type: string, options: { error?: unknown; message?: string } = {}) {
    super(type);
    this.#error = options.error === undefined ? null : options.error;
    this.#message = options.message ?? '';
  }
  get error(): unknown {
    return this.#error;
  }
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
export type EventListenerLike = ((event: never) => void) | { handleEvent(event: never): void };

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
