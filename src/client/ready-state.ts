/** The WHATWG readyState values, shared by `WebSocket` and `ReconnectingWebSocket`. */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;
export type State = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

/** Puts the constants on the class (read-only, as the standard's IDL says) and on its instances. */
export function defineReadyStateConstants(klass: abstract new (...args: never[]) => unknown): void {
  for (const [name, value] of [
    ['CONNECTING', CONNECTING],
    ['OPEN', OPEN],
    ['CLOSING', CLOSING],
    ['CLOSED', CLOSED],
  ] as const) {
    Object.defineProperty(klass.prototype, name, { value, enumerable: true });
    Object.defineProperty(klass, name, { value, enumerable: true, writable: false, configurable: false });
  }
}
