import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';
import { InvalidCompressedDataError, MessageTooBigError, ProtocolViolation } from '../errors.js';
import type { DecodedSink, MessageEncoding } from '../message-extension.js';
import { deflateWith, TAIL } from './deflate-output.js';
import { History } from './history.js';
import type { DeflateParams } from './negotiation.js';
import { type SharedCompressionGroup, sharedCompressionFor } from './shared-deflater.js';
import { readStoredMessage, storedBlocks, storedPieces } from './stored-blocks.js';
import { ignoreError, runZlib, TooMuchOutput, UNUSED_CHUNK, type ZlibStream } from './sync-zlib.js';

/**
 * The permessage-deflate codec (RFC 7692 §7.2), synchronous.
 *
 * Why synchronous: messages must come out in order, the protocol core is synchronous, and
 * most WebSocket messages are small, for which a hop to the libuv thread pool costs more
 * than the compression itself (see sync-zlib.ts for how).
 *
 * Memory: zlib contexts are taken on first use, not at the handshake, so a connection that
 * never compressed holds none. A decompressor costs about 2^windowBits bytes plus 7 KiB; a
 * compressor about 2^(windowBits+2) + 2^(memLevel+9) bytes (256 KiB at 15/8). Without
 * context takeover on the sending side, one compressor per settings serves every connection.
 * Decompressors are pooled. `hibernate()` gives a connection's contexts up between messages
 * and keeps only the history that context takeover needs (at most one window per
 * direction); the server calls it on connections that went quiet.
 */

/** A message's last piece up to this size is inflated together with the tail, copied into `JOINED`. */
const MAX_JOINED_PIECE = 8 * 1024;
/** Shared by every connection: inflating is synchronous, and zlib is done with its input when it returns. */
const JOINED = Buffer.allocUnsafe(MAX_JOINED_PIECE + TAIL.length);

/** zlib's raw deflate cannot compress with an 8-bit window (it would use 9), so 8 means "do not compress". */
const MIN_ZLIB_WINDOW_BITS = 9;

/**
 * Decompressors between uses, by window bits: reset, memory kept, handed to the next socket
 * that needs one. A socket holds one only while it receives compressed messages; this spares
 * the allocator the churn of making and freeing contexts (which fragments the heap).
 */
const idleInflaters = new Map<number, ZlibStream[]>();
/** Idle decompressors kept per window size (about 40 KiB each at 15 bits); more are closed. */
const MAX_IDLE_INFLATERS = 64;

function takeInflater(windowBits: number): ZlibStream {
  const stream = idleInflaters.get(windowBits)?.pop();
  if (stream !== undefined) return stream;
  const created = createInflateRaw({ windowBits, chunkSize: UNUSED_CHUNK }) as unknown as ZlibStream;
  created.on('error', ignoreError);
  return created;
}

function giveBackInflater(stream: ZlibStream, windowBits: number): void {
  if (stream.destroyed || stream._handle === null) return;
  let idle = idleInflaters.get(windowBits);
  if (idle === undefined) idleInflaters.set(windowBits, (idle = []));
  if (idle.length >= MAX_IDLE_INFLATERS) {
    stream.close();
    return;
  }
  stream.reset();
  idle.push(stream);
}

/**
 * Puts `history` into a fresh decompressor's window: it is inflated as stored (uncompressed)
 * blocks and the output dropped. Node offers zlib's preset dictionary only when a stream is
 * made, and a reused one needs the same effect.
 */
function prime(stream: ZlibStream, history: Buffer): void {
  runZlib(
    stream,
    storedBlocks(history, false),
    constants.Z_SYNC_FLUSH,
    Number.MAX_SAFE_INTEGER,
    ignoreOutput,
  );
}

function ignoreOutput(): void {}

export class PerMessageDeflate {
  readonly params: DeflateParams;
  private readonly maxMessageSize: number;
  private readonly inflateWindowBits: number;
  private inflater: ZlibStream | null = null;
  private deflater: ZlibStream | null = null;
  /** Bytes inflated so far for the current message; -1 between messages. */
  private inflated = -1;
  /**
   * RFC 7692 §7.2.3.4 lets a sender end a message with a final (BFINAL) block, which ends the
   * zlib stream: the next message needs a fresh decompressor, primed with the history.
   */
  private streamEnded = false;
  /** What each direction's context holds, when context is kept: the seed of a rebuilt context. */
  private readonly inflateHistory: History | null;
  private readonly deflateHistory: History | null;
  /**
   * Whether what is not compressed still goes with RSV1, as stored blocks: true unless this
   * side keeps its compression context, whose window must see every byte the peer's sees.
   */
  private readonly storesUncompressed: boolean;
  /** Set when this side compresses without context takeover: then one compressed frame serves many sockets. */
  readonly sharedCompression: SharedCompressionGroup | null;

  constructor(params: DeflateParams, maxMessageSize: number) {
    this.params = params;
    this.maxMessageSize = maxMessageSize;
    this.inflateWindowBits = Math.max(params.remoteMaxWindowBits, MIN_ZLIB_WINDOW_BITS);
    this.inflateHistory = params.remoteNoContextTakeover
      ? null
      : new History(windowSize(params.remoteMaxWindowBits));
    this.deflateHistory =
      params.localNoContextTakeover || params.localMaxWindowBits < MIN_ZLIB_WINDOW_BITS
        ? null
        : new History(windowSize(params.localMaxWindowBits));
    this.storesUncompressed = this.deflateHistory === null;
    // A window too small to compress with means every message goes stored.
    const threshold = compresses(params) ? params.threshold : Number.POSITIVE_INFINITY;
    this.sharedCompression = this.storesUncompressed ? sharedCompressionFor(params, threshold) : null;
  }

  /**
   * Inflates one piece of a compressed message; decoded bytes go to `output`. The inflated
   * size is capped while inflating: zlib stops producing output past the message limit.
   */
  decode(piece: Buffer, end: boolean, output: DecodedSink): void {
    // A whole message of stored blocks (a peer like wsx sends small messages so) from a peer
    // that resets its context: no window to keep, so the bytes are taken out without zlib.
    if (end && this.inflated < 0 && this.inflateHistory === null) {
      const stored = readStoredMessage(piece);
      if (stored !== null) {
        for (const data of stored) output.appendDecoded(data);
        return;
      }
    }
    if (this.inflated < 0) this.inflated = 0;
    if (end && piece.length <= MAX_JOINED_PIECE) {
      // One pass through zlib instead of two: the last piece and the tail, joined.
      JOINED.set(piece, 0);
      JOINED.set(TAIL, piece.length);
      this.inflate(JOINED, output, piece.length + TAIL.length);
    } else {
      if (piece.length > 0) this.inflate(piece, output, piece.length);
      if (!end) return;
      this.inflate(TAIL, output, TAIL.length);
    }
    this.inflated = -1;
    // A stream that ended needs a fresh decompressor; one whose peer resets its compressor
    // after each message has nothing worth keeping, so it goes back for any socket to use.
    if (this.streamEnded || this.inflateHistory === null) this.putInflaterAway();
  }

  private inflate(input: Buffer, output: DecodedSink, length: number): void {
    const history = this.inflateHistory;
    try {
      if (this.inflater === null) {
        this.inflater = takeInflater(this.inflateWindowBits);
        this.streamEnded = false;
        const seed = history?.dictionary();
        if (seed !== undefined) prime(this.inflater, seed);
      }
      const limit = this.maxMessageSize - this.inflated;
      const result = runZlib(
        this.inflater,
        input,
        constants.Z_SYNC_FLUSH,
        limit,
        (decoded) => {
          history?.add(decoded);
          // Copied once, by the message (a copy here would be copied again from a lent read).
          output.appendDecoded(decoded, true);
        },
        length,
      );
      this.inflated += result.produced;
      if (result.ended) this.streamEnded = true;
    } catch (error) {
      // Not given back: its state is whatever the bad input left.
      this.inflater?.close();
      this.inflater = null;
      // The connection fails now; nothing is decoded after this.
      history?.clear();
      if (error instanceof TooMuchOutput)
        throw new MessageTooBigError(`inflates to over ${this.maxMessageSize} bytes`);
      if (error instanceof ProtocolViolation) throw error;
      throw new InvalidCompressedDataError((error as Error).message, { cause: error });
    }
  }

  /**
   * How to send a whole message of this size: compressed from `threshold` bytes up (`force`
   * overrides the threshold), otherwise as stored blocks, or plain when this side keeps its
   * compression context.
   */
  encoding(size: number, force: boolean | undefined): MessageEncoding {
    if (compresses(this.params) && force !== false && (force === true || size >= this.params.threshold))
      return 'compressed';
    return this.storesUncompressed ? 'stored' : 'plain';
  }

  /**
   * Wraps a message, or one fragment of it (`end` on its last), in stored blocks, to be sent
   * with RSV1 on its first frame: pieces to write in order, with views of `payload`, not copies.
   */
  store(payload: Uint8Array, end: boolean): Uint8Array[] {
    return storedPieces(payload, end);
  }

  /** Compresses a whole message, ready to be sent with RSV1 set. */
  encode(payload: Uint8Array): Buffer {
    const history = this.deflateHistory;
    // No context kept: the group's compressor, held by reference (nothing looked up per message).
    if (history === null) return this.sharedCompression!.deflater.compress(payload);
    if (this.deflater === null) {
      this.deflater = createDeflateRaw({
        windowBits: this.params.localMaxWindowBits,
        memLevel: this.params.memLevel,
        level: this.params.level,
        dictionary: history.dictionary(),
        chunkSize: UNUSED_CHUNK,
      }) as unknown as ZlibStream;
      this.deflater.on('error', ignoreError);
    }
    const compressed = deflateWith(this.deflater, payload);
    history.add(payload);
    return compressed;
  }

  /** Whether zlib contexts are held now (what `hibernate` would free). */
  get holdsContexts(): boolean {
    return this.inflater !== null || this.deflater !== null;
  }

  /**
   * Frees the zlib contexts between messages, keeping at most one window of history per
   * direction so that context takeover carries on: the next message gets a context seeded
   * with it. For connections that went quiet. A decompressor in the middle of a fragmented
   * message is kept. Returns whether anything was freed.
   */
  hibernate(): boolean {
    let freed = false;
    if (this.inflated < 0) {
      freed = this.inflater !== null;
      this.putInflaterAway();
      this.inflateHistory?.compact();
    }
    if (this.deflater !== null) {
      // Compressors are not pooled: a reused one could only be seeded by compressing the
      // history again, which costs more than making one with a preset dictionary.
      this.deflater.close();
      this.deflater = null;
      freed = true;
    }
    this.deflateHistory?.compact();
    return freed;
  }

  /** Frees the zlib contexts and history (when the connection ends). */
  release(): void {
    if (this.inflated < 0) this.putInflaterAway();
    else this.inflater?.close();
    this.inflater = null;
    this.deflater?.close();
    this.deflater = null;
    this.inflateHistory?.clear();
    this.deflateHistory?.clear();
  }

  private putInflaterAway(): void {
    if (this.inflater === null) return;
    giveBackInflater(this.inflater, this.inflateWindowBits);
    this.inflater = null;
  }
}

/** Whether this side may compress at all: zlib cannot with the 8-bit window a peer may ask for. */
function compresses(params: DeflateParams): boolean {
  return params.localMaxWindowBits >= MIN_ZLIB_WINDOW_BITS;
}

function windowSize(bits: number): number {
  return 1 << Math.max(bits, MIN_ZLIB_WINDOW_BITS);
}
