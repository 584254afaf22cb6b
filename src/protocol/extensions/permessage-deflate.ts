import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  deflateRawSync,
  type InflateRaw,
} from 'node:zlib';
import { InvalidCompressedDataError, MessageTooBigError, ProtocolViolation } from '../errors.js';
import type { DeflateParams } from './negotiation.js';

/**
 * The permessage-deflate codec (RFC 7692 §7.2), synchronous.
 *
 * Why synchronous: messages must come out in order, the protocol core is synchronous, and
 * most WebSocket messages are small, for which a hop to the libuv thread pool costs more
 * than the compression itself. Node has no public synchronous *streaming* zlib (its `*Sync`
 * functions close the context after one call), so this drives the zlib handle with
 * `writeSync` in a loop, the way those functions do internally, and keeps the context
 * open for context takeover. The internals it needs are checked when this module loads.
 *
 * Memory: zlib contexts are created on first use, not at the handshake, so an idle
 * connection holds none. A decompressor costs about 2^windowBits bytes plus 7 KiB; a
 * compressor about 2^(windowBits+2) + 2^(memLevel+9) bytes (256 KiB at 15/8). Output goes
 * through one scratch buffer shared by all connections (safe: nothing here is async).
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

type ZlibStream = (InflateRaw | DeflateRaw) & {
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

function ignoreError(): void {}

/**
 * Runs `input` through a zlib stream with `flush`, passing each piece of output to `output`
 * as it is produced. Throws `TooMuchOutput` as soon as more than `limit` bytes came out.
 * `ended` tells that the stream reached its final block (input was left unconsumed).
 */
function runZlib(
  stream: ZlibStream,
  input: Uint8Array,
  flush: number,
  limit: number,
  output: (bytes: Buffer) => void,
): { produced: number; ended: boolean } {
  const handle = stream._handle;
  if (handle === null) throw new Error('zlib context is closed');
  const state = stream._writeState;
  let inOffset = 0;
  let inLength = input.length;
  let produced = 0;
  for (;;) {
    handle.writeSync(flush, input, inOffset, inLength, SCRATCH, 0, SCRATCH.length);
    // zlib reports bad input by destroying the stream (synchronously) with the error.
    if (stream.destroyed) throw stream.errored ?? new Error('zlib failed');
    const outLeft = state[0];
    const inLeft = state[1];
    const have = SCRATCH.length - outLeft;
    if (have > 0) {
      produced += have;
      if (produced > limit) throw new TooMuchOutput();
      output(Buffer.from(SCRATCH.subarray(0, have)));
    }
    inOffset += inLength - inLeft;
    inLength = inLeft;
    // A full output buffer means zlib may have more: go again. Otherwise all input was
    // consumed, unless the stream ended (a block with BFINAL set) before it.
    if (outLeft !== 0) return { produced, ended: inLeft > 0 };
  }
}

class TooMuchOutput extends Error {}

/** RFC 7692 §7.2.1: the empty stored block that ends a sync flush; senders strip it, receivers add it back. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** §7.2.3.6: an empty message compresses to a single 0x00 byte. */
const EMPTY_COMPRESSED = Buffer.from([0x00]);

/** zlib's raw deflate cannot compress with an 8-bit window (it would use 9), so 8 means "do not compress". */
const MIN_ZLIB_WINDOW_BITS = 9;

export class PerMessageDeflate {
  readonly params: DeflateParams;
  private readonly maxMessageSize: number;
  private inflater: ZlibStream | null = null;
  private deflater: ZlibStream | null = null;
  /** Bytes inflated so far for the current message. */
  private inflated = 0;
  /**
   * RFC 7692 §7.2.3.4 lets a sender end a message with a final (BFINAL) block, which ends the
   * zlib stream: the next message needs a new decompressor, seeded with the output so far
   * when context is kept. The current message's latest output is kept for that.
   */
  private streamEnded = false;
  private recent: Buffer[] = [];
  private recentSize = 0;
  private dictionary: Buffer | undefined = undefined;

  constructor(params: DeflateParams, maxMessageSize: number) {
    this.params = params;
    this.maxMessageSize = maxMessageSize;
  }

  /**
   * Inflates one piece of a compressed message; decoded bytes go to `output`. The inflated
   * size is capped while inflating: zlib stops producing output past the message limit.
   */
  decode(piece: Buffer, end: boolean, output: (decoded: Buffer) => void): void {
    if (piece.length > 0) this.inflate(piece, output);
    if (!end) return;
    this.inflate(TAIL, output);
    this.inflated = 0;
    if (this.streamEnded) {
      this.releaseInflater();
      // Seeding with this message's output is exact for references into it; references
      // further back then fail as invalid data (1007) rather than decode wrongly.
      if (!this.params.remoteNoContextTakeover && this.recentSize > 0) {
        const window = windowSize(this.params.remoteMaxWindowBits);
        this.dictionary = Buffer.concat(this.recent, this.recentSize).subarray(-window);
      }
    } else if (this.params.remoteNoContextTakeover) {
      // The peer resets its compressor after each message, so the history here is useless.
      this.releaseInflater();
    }
    this.recent = [];
    this.recentSize = 0;
  }

  private inflate(input: Buffer, output: (decoded: Buffer) => void): void {
    if (this.inflater === null) {
      this.inflater = createInflateRaw({
        windowBits: Math.max(this.params.remoteMaxWindowBits, MIN_ZLIB_WINDOW_BITS),
        dictionary: this.dictionary,
      }) as unknown as ZlibStream;
      this.inflater.on('error', ignoreError);
      this.dictionary = undefined;
      this.streamEnded = false;
    }
    try {
      const keep = !this.params.remoteNoContextTakeover;
      const limit = this.maxMessageSize - this.inflated;
      const result = runZlib(this.inflater, input, constants.Z_SYNC_FLUSH, limit, (decoded) => {
        if (keep) this.remember(decoded);
        output(decoded);
      });
      this.inflated += result.produced;
      if (result.ended) this.streamEnded = true;
    } catch (error) {
      this.releaseInflater();
      if (error instanceof TooMuchOutput)
        throw new MessageTooBigError(`inflates to over ${this.maxMessageSize} bytes`);
      if (error instanceof ProtocolViolation) throw error;
      throw new InvalidCompressedDataError((error as Error).message, { cause: error });
    }
  }

  /** Keeps the latest output of the current message, about one window's worth. */
  private remember(decoded: Buffer): void {
    this.recent.push(decoded);
    this.recentSize += decoded.length;
    const window = windowSize(this.params.remoteMaxWindowBits);
    while (this.recent.length > 1 && this.recentSize - this.recent[0].length >= window) {
      this.recentSize -= this.recent.shift()!.length;
    }
  }

  /** Whether a message of this size should be sent compressed (`force` overrides the threshold). */
  shouldCompress(size: number, force: boolean | undefined): boolean {
    if (force === false || this.params.localMaxWindowBits < MIN_ZLIB_WINDOW_BITS) return false;
    return force === true || size >= this.params.threshold;
  }

  /** Compresses a whole message, ready to be sent with RSV1 set. */
  encode(payload: Uint8Array): Buffer {
    if (this.params.localNoContextTakeover) return compressMessage(payload, this.params);
    if (this.deflater === null) {
      this.deflater = createDeflateRaw({
        windowBits: this.params.localMaxWindowBits,
        memLevel: this.params.memLevel,
        level: this.params.level,
      }) as unknown as ZlibStream;
      this.deflater.on('error', ignoreError);
    }
    const pieces: Buffer[] = [];
    const { produced } = runZlib(
      this.deflater,
      payload,
      constants.Z_SYNC_FLUSH,
      Number.MAX_SAFE_INTEGER,
      (piece) => pieces.push(piece),
    );
    return stripTail(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, produced));
  }

  /** Frees the zlib contexts (when the connection ends). */
  release(): void {
    this.releaseInflater();
    this.deflater?.close();
    this.deflater = null;
  }

  private releaseInflater(): void {
    this.inflater?.close();
    this.inflater = null;
  }
}

/**
 * Compresses one message with no context before or after it: the result depends only on
 * the payload and the settings, so one result can be sent to every socket that agreed to
 * the same window, memLevel and level without context takeover (the broadcast path).
 */
export function compressMessage(
  payload: Uint8Array,
  settings: Pick<DeflateParams, 'localMaxWindowBits' | 'memLevel' | 'level'>,
): Buffer {
  const compressed = deflateRawSync(payload, {
    windowBits: settings.localMaxWindowBits,
    memLevel: settings.memLevel,
    level: settings.level,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  return stripTail(compressed);
}

function windowSize(bits: number): number {
  return 1 << Math.max(bits, MIN_ZLIB_WINDOW_BITS);
}

function stripTail(compressed: Buffer): Buffer {
  const length = compressed.length;
  const stripped =
    length >= 4 &&
    compressed[length - 4] === 0 &&
    compressed[length - 3] === 0 &&
    compressed[length - 2] === 0xff &&
    compressed[length - 1] === 0xff
      ? compressed.subarray(0, length - 4)
      : compressed;
  return stripped.length === 0 ? EMPTY_COMPRESSED : stripped;
}
