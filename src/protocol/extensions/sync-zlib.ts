import { constants, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';

/**
 * Synchronous streaming zlib for permessage-deflate. Node has no public synchronous
 * *streaming* zlib (its `*Sync` functions close the context after one call), so this drives
 * a zlib stream's handle with `writeSync` in a loop, the way those functions do internally,
 * and keeps the context open for context takeover. The internals it needs are checked when
 * this module loads. Output goes through one scratch buffer shared by all connections (safe:
 * nothing here is async).
 */

interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
}

export type ZlibStream = (InflateRaw | DeflateRaw) & {
  /** Back to the state of a new stream, memory kept (inflateReset / deflateReset). */
  reset(): void;
  _handle: ZlibHandle | null;
  /** [available output after, available input after] of the last write. */
  _writeState: Uint32Array;
};

const probe = createInflateRaw() as unknown as ZlibStream;
if (typeof probe._handle?.writeSync !== 'function' || !(probe._writeState instanceof Uint32Array)) {
  throw new Error('this Node.js lacks the zlib internals wsx uses for synchronous permessage-deflate');
}
probe.close();

const SCRATCH = Buffer.allocUnsafe(64 * 1024);
/**
 * A zlib stream's own output buffer is never used here (output goes through SCRATCH): the
 * smallest size zlib takes (Z_MIN_CHUNK) saves 16 KiB per context.
 */
export const UNUSED_CHUNK = constants.Z_MIN_CHUNK;

export function ignoreError(): void {}

/** What `runZlib` did: bytes out, and whether the stream reached its final block. */
export interface ZlibRun {
  produced: number;
  ended: boolean;
}

/** Reused for every run (nothing here is async, and callers read it before the next run). */
const RUN: ZlibRun = { produced: 0, ended: false };

/**
 * Runs `input` through a zlib stream with `flush`, passing each piece of output to `output`
 * as it is produced: a view of the shared scratch buffer, valid only during the call (copy
 * what is kept), with `last` true on the final piece. Throws `TooMuchOutput` as soon as more
 * than `limit` bytes came out. `ended` tells that the stream reached its final block (input
 * was left unconsumed). Only the first `length` bytes of `input` are read. The result object
 * is shared: read it before the next run.
 */
export function runZlib(
  stream: ZlibStream,
  input: Uint8Array,
  flush: number,
  limit: number,
  output: (bytes: Buffer, last: boolean) => void,
  length = input.length,
): ZlibRun {
  const handle = stream._handle;
  if (handle === null) throw new Error('zlib context is closed');
  const state = stream._writeState;
  let inOffset = 0;
  let inLength = length;
  let produced = 0;
  for (;;) {
    handle.writeSync(flush, input, inOffset, inLength, SCRATCH, 0, SCRATCH.length);
    // zlib reports bad input by destroying the stream (synchronously) with the error.
    if (stream.destroyed) throw stream.errored ?? new Error('zlib failed');
    const outLeft = state[0];
    const inLeft = state[1];
    const have = SCRATCH.length - outLeft;
    // A full output buffer means zlib may have more: go again. Otherwise all input was
    // consumed, unless the stream ended (a block with BFINAL set) before it.
    const last = outLeft !== 0;
    if (have > 0) {
      produced += have;
      if (produced > limit) throw new TooMuchOutput();
      output(SCRATCH.subarray(0, have), last);
    }
    inOffset += inLength - inLeft;
    inLength = inLeft;
    if (last) {
      RUN.produced = produced;
      RUN.ended = inLeft > 0;
      return RUN;
    }
  }
}

export class TooMuchOutput extends Error {}
