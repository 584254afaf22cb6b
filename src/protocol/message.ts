import { isUtf8 } from 'node:buffer';
import { copyTarget } from './copy-slab.js';
import { InvalidUtf8Error, MessageTooBigError } from './errors.js';
import { xorInPlace, xorInto, xorReadInPlace } from './mask.js';
import { Utf8Validator } from './utf8.js';

const EMPTY = Buffer.alloc(0);
const EAGER_ALLOCATION = 1024 * 1024;

/**
 * Assembles one message from the payload pieces of its frames.
 *
 * A message that arrives whole in one chunk is unmasked in place and passed on as a view,
 * with no copy, unless the chunk is lent (its memory reused after the read): then it is
 * unmasked as it is copied out (`copy-slab.ts`). Otherwise bytes are unmasked as they are
 * copied, once, into a buffer sized from the frame lengths announced so far (a single frame
 * of up to 1 MiB split across reads gets a buffer of exactly its final size; larger frames
 * and fragmented messages grow by doubling), so memory stays within twice the message size
 * and no per-fragment objects are kept.
 *
 * Text is validated as it arrives: the whole-message case with the native validator, every
 * other case piece by piece, so invalid UTF-8 fails before the rest of the message arrives.
 */
export class MessageAssembler {
  private readonly maxMessageSize: number;
  /** Made for the first text that arrives in pieces: most connections never need it. */
  private utf8: Utf8Validator | null = null;
  /** Whether the current message is text, and validated piece by piece rather than at the end. */
  private text = false;
  private incremental = false;
  /** The message so far: a single view until a second piece needs a buffer. */
  private first: Buffer | null = null;
  private buffer: Buffer | null = null;
  private size = 0;
  /**
   * Set while the pieces are views of a lent chunk (`Connection.receiveLent`): nothing is
   * then kept or handed on as a view of them.
   */
  lent = false;
  /**
   * Set with `lent` when the chunk lies in the SIMD kernel's read memory
   * (`kernelReadMemory`): pieces are then unmasked where they lie and copied once.
   */
  inKernel = false;
  /** Bytes promised by the frame headers seen so far. */
  private announced = 0;
  /** Whether the current frame is the message's last one. */
  private finalFrame = false;
  /**
   * @internal For tests: bytes copied and bytes validated so far, added once per piece, to
   * check without timing that the work stays linear in the message's size however it is split.
   */
  work = 0;

  constructor(maxMessageSize: number) {
    this.maxMessageSize = maxMessageSize;
  }

  /** A new message begins; `text` is true for text, whose UTF-8 is checked as bytes arrive (inflated ones, when compressed). */
  begin(text: boolean): void {
    this.text = text;
    this.incremental = false;
    this.utf8?.reset();
  }

  /** A frame of the current message begins. */
  frameStart(length: number, fin: boolean): void {
    this.announced = this.size + length;
    if (this.announced > this.maxMessageSize) {
      throw new MessageTooBigError(`over ${this.maxMessageSize} bytes`);
    }
    this.finalFrame = fin;
  }

  /**
   * Adds payload bytes, masked with `mask` (0: not masked; see `maskWord`); `frameEnd` is
   * true for the current frame's last piece. Masked bytes are unmasked as they are copied,
   * or in place in the piece when the piece is the whole message. A `transient` piece is
   * always copied (see `DecodedSink`).
   */
  append(piece: Buffer, mask: number, frameEnd: boolean, transient = false): void {
    const length = piece.length;
    if (length === 0) return;
    const whole = this.size === 0 && frameEnd && this.finalFrame;
    if (this.size === 0 && (whole || mask === 0) && !this.lent && !transient) {
      // Kept as a view: the whole message, or unmasked bytes that may turn out to be all of it.
      xorInPlace(piece, 0, length, mask);
      if (this.text && !whole) this.validate(piece);
      this.first = piece;
      this.size = length;
      return;
    }
    const at = this.size;
    const needed = at + length;
    if (this.buffer === null || this.buffer.length < needed) this.grow(needed);
    const buffer = this.buffer!;
    this.copyOut(buffer, at, piece, mask);
    this.work += length;
    if (this.text) this.validate(buffer.subarray(at, needed));
    this.size = needed;
  }

  /** Whether no byte of the current message has arrived yet. */
  get isEmpty(): boolean {
    return this.size === 0;
  }

  /**
   * Ends a message that is all in `piece` (its final frame's end, with nothing before it):
   * unmasked in place and returned as it is, with nothing kept here.
   */
  takeWhole(piece: Buffer, mask: number): Buffer {
    if (this.lent) {
      const own = copyTarget(piece.length);
      this.copyOut(own, 0, piece, mask);
      piece = own;
    } else {
      xorInPlace(piece, 0, piece.length, mask);
    }
    if (this.text && !isUtf8(piece)) throw new InvalidUtf8Error();
    this.announced = 0;
    return piece;
  }

  /** Unmasks a piece where it lies (one the caller reads from there, a compressed one). */
  unmaskInPlace(piece: Buffer, mask: number): void {
    if (this.inKernel) xorReadInPlace(piece, mask);
    else xorInPlace(piece, 0, piece.length, mask);
  }

  /** `target[offset, ...)` = `piece` unmasked with `mask`: one copy wherever the piece lies. */
  private copyOut(target: Buffer, offset: number, piece: Buffer, mask: number): void {
    if (this.inKernel) {
      xorReadInPlace(piece, mask);
      target.set(piece, offset);
    } else {
      xorInto(target, offset, piece, 0, piece.length, mask);
    }
  }

  /** Checks text that arrives in pieces as it comes (a whole message is checked natively when taken). */
  private validate(bytes: Buffer): void {
    this.incremental = true;
    this.work += bytes.length;
    if (!(this.utf8 ??= new Utf8Validator()).write(bytes)) throw new InvalidUtf8Error();
  }

  /** Appends bytes produced elsewhere (an inflater): checked against the limit as they come. */
  appendDecoded(piece: Buffer, transient = false): void {
    if (this.size + piece.length > this.maxMessageSize) {
      throw new MessageTooBigError(`over ${this.maxMessageSize} bytes`);
    }
    this.append(piece, 0, false, transient);
  }

  /** Ends the message and returns its bytes; text is fully validated by now. */
  take(): Buffer {
    const buffer = this.buffer;
    // A buffer of the message's exact size (a frame copied whole) is taken as it is.
    const data =
      buffer !== null
        ? buffer.length === this.size
          ? buffer
          : buffer.subarray(0, this.size)
        : (this.first ?? EMPTY);
    if (this.text) {
      const valid = this.incremental ? this.utf8!.complete : isUtf8(data);
      if (!valid) throw new InvalidUtf8Error();
    }
    this.first = null;
    this.buffer = null;
    this.size = 0;
    this.announced = 0;
    return data;
  }

  private grow(needed: number): void {
    const doubled = this.buffer === null ? 0 : Math.min(this.buffer.length * 2, this.maxMessageSize);
    // Frames up to 1 MiB get a buffer of their final size at once (one copy). Larger ones
    // grow as bytes arrive, so a header announcing 16 MiB reserves nothing until sent.
    const upFront =
      this.announced <= EAGER_ALLOCATION ? this.announced : Math.min(this.announced, needed * 2);
    const next = Buffer.allocUnsafe(Math.max(needed, upFront, doubled));
    if (this.buffer !== null) this.buffer.copy(next, 0, 0, this.size);
    else if (this.first !== null) this.first.copy(next, 0);
    this.work += this.size;
    this.first = null;
    this.buffer = next;
  }
}
