// What a Connection makes once or on first use: its resolved options, shared by the
// connections made with the same options object, and the record few connections need.
import type { CloseInfo } from './close.js';
import type { ConnectionOptions } from './connection-types.js';
import type { ProtocolViolation } from './errors.js';
import { type ConnectionLimits, resolveLimits } from './limits.js';
import type { MessageExtension } from './message-extension.js';

const DEFAULT_COPY_THRESHOLD = 16 * 1024;

/** A connection's resolved options. */
export interface Setup {
  readonly limits: ConnectionLimits;
  readonly copyThreshold: number;
}

/** Options resolved, by options object: a server's connections all share one. */
const setups = new WeakMap<ConnectionOptions, Setup>();

export function setupOf(options: ConnectionOptions): Setup {
  let setup = setups.get(options);
  if (setup === undefined) {
    setup = Object.freeze({
      limits: resolveLimits(options),
      copyThreshold: options.copyThreshold ?? DEFAULT_COPY_THRESHOLD,
    });
    setups.set(options, setup);
  }
  return setup;
}

/** What few connections need, made on first use: the closing handshake's record, held input, an extension. */
export interface Extras {
  sent: CloseInfo | null;
  received: CloseInfo | null;
  failure: ProtocolViolation | null;
  /** While input is held (see `holdInput`), what was not read yet. */
  heldInput: Buffer | null;
  extension: MessageExtension | null;
}

export function newExtras(): Extras {
  return { sent: null, received: null, failure: null, heldInput: null, extension: null };
}
