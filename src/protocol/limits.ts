/**
 * Limits of one connection. Each has a safe default; what happens when it is hit is in
 * SECURITY.md. Sizes are in bytes, times in milliseconds.
 */
export interface ConnectionLimits {
  /**
   * Largest message accepted, after reassembly (and decompression). Over it the connection
   * is failed with 1009 as soon as a frame header announces it. Default 16 MiB: the largest
   * messages in common use fit, and a peer cannot make a socket hold more.
   */
  readonly maxMessageSize: number;
  /** Largest single frame payload. Default: the message limit (1009 when exceeded). */
  readonly maxFrameSize: number;
  /**
   * Most frames one message may be split into. Default 131,072 (a 4 MiB message in 32-byte
   * fragments); past it, 1008. Bounds the CPU a stream of tiny fragments can take.
   */
  readonly maxFragments: number;
}

/**
 * The default {@link ConnectionLimits} (frozen): messages and frames up to 16 MiB, at most
 * 131,072 fragments per message. Spread it to change one limit and keep the others.
 */
export const DEFAULT_LIMITS: ConnectionLimits = Object.freeze({
  maxMessageSize: 16 * 1024 * 1024,
  maxFrameSize: 16 * 1024 * 1024,
  maxFragments: 131_072,
});

/** Objects made by `resolveLimits`: resolving one again gives it back, so connections can share it. */
const resolved = new WeakSet<ConnectionLimits>();

/** Fills in defaults; `maxFrameSize` follows `maxMessageSize` unless set. Throws on nonsense. */
export function resolveLimits(options: Partial<ConnectionLimits> = {}): ConnectionLimits {
  if (resolved.has(options as ConnectionLimits)) return options as ConnectionLimits;
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_LIMITS.maxMessageSize;
  const limits = {
    maxMessageSize,
    maxFrameSize: Math.min(options.maxFrameSize ?? maxMessageSize, maxMessageSize),
    maxFragments: options.maxFragments ?? DEFAULT_LIMITS.maxFragments,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  Object.freeze(limits);
  resolved.add(limits);
  return limits;
}
