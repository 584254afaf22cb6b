import type { ZlibOptions } from 'node:zlib';
import type { PerMessageDeflateOptions } from '../protocol/extensions/negotiation.js';

/** ws's `perMessageDeflate` option object (the zlib option objects are read for level and memLevel). */
export interface WsPerMessageDeflateOptions {
  /** Server: reset the compressor after each message (asked by the client, or declared). */
  serverNoContextTakeover?: boolean;
  /** Ask (server) or offer (client) that the client resets its compressor after each message. */
  clientNoContextTakeover?: boolean;
  /** Largest window of the server's compressor, 8-15. */
  serverMaxWindowBits?: number;
  /** Largest window of the client's compressor, 8-15; on a client `true` offers the parameter without a value. */
  clientMaxWindowBits?: number;
  /** zlib settings of the compressor: `level` and `memLevel` are used, the others are ignored. */
  zlibDeflateOptions?: {
    /** zlib compression level, 0-9. */
    level?: number;
    /** zlib memLevel, 1-9. */
    memLevel?: number;
    [option: string]: unknown;
  };
  /** Accepted and ignored. */
  zlibInflateOptions?: ZlibOptions;
  /** Messages smaller than this many bytes are not compressed. Default 1024. */
  threshold?: number;
  /** Accepted and ignored: wsx compresses synchronously, without a queue. */
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
