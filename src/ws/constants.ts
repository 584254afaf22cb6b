/** Ready states, as ws (and the WHATWG WebSocket) number them. */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

export const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/** What `binaryType` may be set to. */
export const BINARY_TYPES: readonly string[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
/** As @types/ws types it; 'blob' (Node >= 18) is accepted too and gives a Blob. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';

/**
 * Marks on listeners added by `addEventListener` and the `on<event>` attributes. Registered
 * symbols, so that code written for ws's listener marks can find them without importing wsx.
 */
export const kListener: unique symbol = Symbol.for('wsx.ws.listener') as never;
export const kForOnEventAttribute: unique symbol = Symbol.for('wsx.ws.forOnEventAttribute') as never;

/** ws's defaults where wsx has no opinion of its own. */
export const WS_CLOSE_TIMEOUT = 30_000;
export const DEFAULT_MAX_REDIRECTS = 10;
/**
 * The client's opening handshake limit (ws has none). Longer than wsx's own client's 10 s: code
 * written for ws never expected one, so only a server that does not answer at all should meet it.
 */
export const WS_HANDSHAKE_TIMEOUT = 30_000;
/** wsx's message limit (ws's is 100 MiB); 0 lifts it. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
