/** Ready states, as ws (and the WHATWG WebSocket) number them. */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

export const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/** What `binaryType` may be set to. */
export const BINARY_TYPES = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'] as const;
export type BinaryType = (typeof BINARY_TYPES)[number];

/**
 * Marks on listeners added by `addEventListener` and the `on<event>` attributes. Registered
 * symbols, so that code written for ws's listener marks can find them without importing wsx.
 */
export const kListener: unique symbol = Symbol.for('wsx.ws.listener') as never;
export const kForOnEventAttribute: unique symbol = Symbol.for('wsx.ws.forOnEventAttribute') as never;

/** ws's defaults where wsx has no opinion of its own. */
export const WS_CLOSE_TIMEOUT = 30_000;
export const DEFAULT_MAX_REDIRECTS = 10;

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
