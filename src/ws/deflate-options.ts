import type { PerMessageDeflateOptions } from '../protocol/extensions/negotiation.js';

/** ws's `perMessageDeflate` option object (the zlib option objects are read for level and memLevel). */
export interface WsPerMessageDeflateOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  /** On a client, `true` offers the parameter without a value (ws accepts it at run time). */
  clientMaxWindowBits?: number;
  zlibDeflateOptions?: { level?: number; memLevel?: number; [option: string]: unknown };
  zlibInflateOptions?: Record<string, unknown>;
  threshold?: number;
  concurrencyLimit?: number;
}

/**
 * wsx's permessage-deflate options for ws's `perMessageDeflate` value (`false`, `true` or
 * ws's object). Negotiation follows ws's defaults: the server keeps its context unless asked.
 */
export function deflateSetting(
  setting: boolean | WsPerMessageDeflateOptions | undefined,
  defaultOn: boolean,
): PerMessageDeflateOptions {
  if (setting === undefined ? !defaultOn : !setting) return { enabled: false };
  const options: WsPerMessageDeflateOptions = typeof setting === 'object' ? setting : {};
  const zlib = options.zlibDeflateOptions ?? {};
  const windowBits = (value: unknown) => (typeof value === 'number' ? value : undefined);
  return {
    serverNoContextTakeover: options.serverNoContextTakeover === true,
    clientNoContextTakeover: options.clientNoContextTakeover === true,
    serverMaxWindowBits: windowBits(options.serverMaxWindowBits),
    clientMaxWindowBits:
      (options.clientMaxWindowBits as unknown) === true ? true : windowBits(options.clientMaxWindowBits),
    level: zlib.level,
    memLevel: zlib.memLevel,
    threshold: options.threshold ?? 1024,
    // ws keeps a socket's zlib contexts while it is open.
    releaseAfter: 0,
  };
}
