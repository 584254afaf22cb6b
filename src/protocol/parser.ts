import {
  ControlFrameTooLongError,
  ExpectedContinuationError,
  FragmentedControlFrameError,
  FrameTooBigError,
  LengthOverflowError,
  MaskedServerFrameError,
  ReservedBitsError,
  ReservedOpcodeError,
  TooManyFragmentsError,
  UnexpectedContinuationError,
  UnmaskedClientFrameError,
} from './errors.js';
import { advanceMask, xorInto } from './mask.js';
import type { MessageAssembler } from './message.js';
import { isControlOpcode, isKnownOpcode, Opcode } from './opcodes.js';

/** Where the parser sends what it reads. Throwing a ProtocolViolation from here fails the connection. */
export interface FrameSink {
  /** A text, binary or continuation frame begins; `length` is its payload length. */
  dataFrameStart(opcode: number, fin: boolean, rsv1: boolean, length: number): void;
  /**
   * Payload bytes of the current data frame, in order; `frameEnd` marks the last piece (an
   * empty frame gives one empty piece). A piece is a view into the received chunk, still
   * masked: the sink unmasks it with `mask` (see `maskWord`; 0 for an unmasked frame), in
   * place or while copying it, so that bytes are touched once. The parser never touches
   * the piece again.
   */
  dataFramePayload(piece: Buffer, mask: number, frameEnd: boolean): void;
  /** A whole control frame (its payload is at most 125 bytes and owned by the sink). */
  controlFrame(opcode: number, payload: Buffer): void;
}

export interface ParserOptions {
  /** True on the server: client frames must be masked; on the client, server frames must not be. */
  readonly expectMasked: boolean;
  readonly maxFrameSize: number;
  readonly maxFragments: number;
}

/** Reads frames from bytes as they arrive, in any split. Owns frame-level rules of RFC 6455 §5. */
export interface Parser {
  /** Reads `chunk`; returns how many of its bytes were read (less only after `yieldSoon`). */
  receive(chunk: Buffer): number;
  /** Stops the parser: the rest of the current chunk and all later input are ignored. */
  halt(): void;
  /** Asked from inside a sink call: stop reading the current chunk once that call returns. */
  yieldSoon(): void;
}

/** After a close or a failure, the connection swaps its parser for this one (RFC 6455 §7.1.7). */
export const DISCARDING_PARSER: Parser = Object.freeze({
  receive: (chunk: Buffer) => chunk.length,
  halt() {},
  yieldSoon() {},
});

enum State {
  Header,
  Payload,
}

const EMPTY = Buffer.alloc(0);

export class FrameParser implements Parser {
  private readonly sink: FrameSink;
  private readonly expectMasked: boolean;
  private readonly maxFrameSize: number;
  private readonly maxFragments: number;
  /** RSV1 is allowed on the first frame of a message once an extension claims it. */
  allowRsv1 = false;
  /**
   * The sink's message assembler, which the parser only carries: made with the parser, so that
   * the sink (a connection) needs one field for both, null on an idle connection.
   */
  assembler: MessageAssembler | null = null;

  private state = State.Header;
  private halted = false;
  /** Set by `yieldSoon`: the current `receive` returns at the next frame boundary it reaches. */
  private yielding = false;
  /** A header split across chunks is gathered here (at most 14 bytes); made at the first such split. */
  private headerBytes: Buffer | null = null;
  private headerFill = 0;
  /** The current frame's masking key, turned to the next payload byte (0: unmasked). */
  private mask = 0;
  private opcode = 0;
  private remaining = 0;
  /** Control frame payloads are gathered whole (at most 125 bytes). */
  private control: Buffer | null = null;
  private controlFill = 0;
  /** Whether a fragmented message is in progress, and how many frames it has had. */
  private inMessage = false;
  private fragments = 0;

  constructor(sink: FrameSink, options: ParserOptions) {
    this.sink = sink;
    this.expectMasked = options.expectMasked;
    this.maxFrameSize = options.maxFrameSize;
    this.maxFragments = options.maxFragments;
  }

  halt(): void {
    this.halted = true;
  }

  yieldSoon(): void {
    this.yielding = true;
  }

  receive(chunk: Buffer): number {
    let pos = 0;
    const end = chunk.length;
    while (pos < end && !this.halted && !this.yielding) {
      if (this.state === State.Payload) {
        pos = this.readPayload(chunk, pos, end);
        continue;
      }
      // Header: decode straight from the chunk when it is all there, else gather it.
      let source: Buffer;
      let at: number;
      const whole = this.headerFill === 0 && end - pos >= 2 ? frameHeaderLength(chunk[pos + 1]) : 0;
      if (whole !== 0 && end - pos >= whole) {
        source = chunk;
        at = pos;
        pos += whole;
      } else {
        const before = pos;
        pos = this.gatherHeader(chunk, pos, end);
        if (
          pos === before ||
          this.headerFill < 2 ||
          this.headerFill < frameHeaderLength(this.headerBytes![1])
        ) {
          continue;
        }
        source = this.headerBytes!;
        at = 0;
        this.headerFill = 0;
      }
      this.decodeHeader(source, at);
      if (this.remaining === 0 && !this.halted) this.finishEmptyFrame();
    }
    this.yielding = false;
    return this.halted ? end : pos;
  }

  private gatherHeader(chunk: Buffer, pos: number, end: number): number {
    // Take the first two bytes, then as many more as the header turns out to need.
    const bytes = (this.headerBytes ??= Buffer.allocUnsafe(14));
    const wanted = this.headerFill < 2 ? 2 : frameHeaderLength(bytes[1]);
    const take = Math.min(wanted - this.headerFill, end - pos);
    chunk.copy(bytes, this.headerFill, pos, pos + take);
    this.headerFill += take;
    return pos + take;
  }

  private decodeHeader(bytes: Buffer, at: number): void {
    const first = bytes[at];
    const second = bytes[at + 1];
    const fin = (first & 0x80) !== 0;
    const rsv1 = (first & 0x40) !== 0;
    const opcode = first & 0x0f;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      length = (bytes[offset] << 8) | bytes[offset + 1];
      offset += 2;
    } else if (length === 127) {
      const high = bytes.readUInt32BE(offset);
      // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
      if (high & 0x80000000) throw new LengthOverflowError();
      length = high * 0x100000000 + bytes.readUInt32BE(offset + 4);
      offset += 8;
    }
    this.mask = masked
      ? bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)
      : 0;

    // RFC 6455 §5.2: RSV bits MUST be 0 unless an extension defines their meaning.
    if ((first & 0x30) !== 0 || (rsv1 && (!this.allowRsv1 || isControlOpcode(opcode) || opcode === 0))) {
      throw new ReservedBitsError(`${(first & 0x30) !== 0 ? 'RSV2/RSV3' : 'RSV1'}, opcode ${opcode}`);
    }
    if (!isKnownOpcode(opcode)) throw new ReservedOpcodeError(String(opcode));
    // RFC 6455 §5.1: a client MUST mask the frames it sends; a server MUST NOT.
    if (masked !== this.expectMasked) {
      throw this.expectMasked ? new UnmaskedClientFrameError() : new MaskedServerFrameError();
    }
    this.opcode = opcode;
    this.remaining = length;
    this.state = State.Payload;

    if (isControlOpcode(opcode)) {
      // RFC 6455 §5.5: control frames have payloads of at most 125 bytes and are never fragmented.
      if (length > 125) throw new ControlFrameTooLongError(`${length} bytes`);
      if (!fin) throw new FragmentedControlFrameError();
      this.control = length === 0 ? EMPTY : Buffer.allocUnsafe(length);
      this.controlFill = 0;
      return;
    }
    if (opcode === Opcode.Continuation) {
      if (!this.inMessage) throw new UnexpectedContinuationError();
    } else if (this.inMessage) {
      throw new ExpectedContinuationError();
    }
    if (length > this.maxFrameSize) throw new FrameTooBigError(`${length} > ${this.maxFrameSize} bytes`);
    this.fragments = opcode === Opcode.Continuation ? this.fragments + 1 : 1;
    if (this.fragments > this.maxFragments) throw new TooManyFragmentsError(`more than ${this.maxFragments}`);
    this.inMessage = !fin;
    this.sink.dataFrameStart(opcode, fin, rsv1, length);
  }

  private readPayload(chunk: Buffer, pos: number, end: number): number {
    const take = Math.min(this.remaining, end - pos);
    const stop = pos + take;
    const mask = this.mask;
    if (mask !== 0) this.mask = advanceMask(mask, take);
    this.remaining -= take;
    const frameEnd = this.remaining === 0;
    if (frameEnd) this.state = State.Header;
    if (this.control !== null) {
      xorInto(this.control, this.controlFill, chunk, pos, stop, mask);
      this.controlFill += take;
      if (frameEnd) this.finishControlFrame();
    } else {
      this.sink.dataFramePayload(chunk.subarray(pos, stop), mask, frameEnd);
    }
    return stop;
  }

  private finishEmptyFrame(): void {
    this.state = State.Header;
    if (this.control !== null) this.finishControlFrame();
    else this.sink.dataFramePayload(EMPTY, 0, true);
  }

  private finishControlFrame(): void {
    const payload = this.control!;
    this.control = null;
    this.sink.controlFrame(this.opcode, payload);
  }
}

/** Header length implied by the second header byte: 2, plus 2 or 8 for the length, plus 4 for a mask. */
function frameHeaderLength(second: number): number {
  const length = second & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (second & 0x80 ? 4 : 0);
}
