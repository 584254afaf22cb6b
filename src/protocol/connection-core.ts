// The part of a Connection that every frame goes through: its fields, reading frames in and
// writing data frames out. The rest of its API builds on it (connection.ts).

import { type Extras, newExtras, type Setup, setupOf } from './connection-setup.js';
import type { ConnectionEvents, ConnectionOptions, Role } from './connection-types.js';
import { expectCopies } from './copy-slab.js';
import { type ProtocolViolation, toViolation, UsageError } from './errors.js';
import { inKernelReadMemory, nextMaskingKey } from './mask.js';
import { MessageAssembler } from './message.js';
import type { MessageExtension } from './message-extension.js';
import { Opcode } from './opcodes.js';
import { FrameParser, type FrameSink, type Parser } from './parser.js';
import {
  encodeFrame,
  encodeHeader,
  encodePiecesFrame,
  encodeTextFrame,
  headerLength,
  writeHeader,
} from './serializer.js';

/** The bits of `Connection.bits`: its yes/no states in one field (an idle connection is small). */
export enum Bit {
  /** The message being received is binary. */
  MessageBinary = 1,
  /** The message being received arrived compressed (RSV1). */
  MessageCompressed = 2,
  /** An outgoing fragmented message is in progress (a continuation comes next). */
  SendingFragments = 4,
  /** The outgoing fragmented message goes wrapped by the extension (RSV1 on its first frame). */
  StoringFragments = 8,
  /** The data frame being read is the last of its message. */
  FrameFin = 16,
  /** The peer closed its side of the transport. */
  EofReceived = 32,
  /** Input is held (see `holdInput`). */
  InputHeld = 64,
  /** The end of input came while input was held: it is taken once the held bytes are read. */
  EofPending = 128,
  /** The parser runs, so that a hold asked by a handler stops it at once. */
  Reading = 256,
  /** The transport is gone: nothing can be written any more. */
  Disposed = 512,
  /** The client end (it masks what it sends). */
  Client = 1024,
  /** A close frame went either way, or the connection failed (see `Extras`). */
  Ending = 2048,
}

/**
 * The fields of a `Connection` and the paths each frame takes: bytes in through the
 * parser to messages and control frames, messages out as frames. Abstract: the closing
 * handshake and the rest of the API are `Connection`'s own.
 */
export abstract class ConnectionCore implements FrameSink {
  /** @internal */
  protected readonly events: ConnectionEvents;
  /** Limits and output tuning, shared by the connections made with the same options. */
  private readonly setup: Setup;
  /** @internal Null until the first bytes arrive (an idle connection holds no parsing state); it carries the message assembler. */
  protected parser: Parser | null = null;
  /** @internal The yes/no states (`Bit`), one field instead of ten. */
  protected bits = 0;
  /** @internal See `Extras`: null on a connection that is open, not paused and has no extension. */
  protected extras: Extras | null = null;

  /** @internal */
  protected get extension(): MessageExtension | null {
    return this.extras === null ? null : this.extras.extension;
  }

  /** @internal */
  protected get heldInput(): Buffer | null {
    return this.extras === null ? null : this.extras.heldInput;
  }

  /** @internal */
  protected set heldInput(input: Buffer | null) {
    if (input !== null || this.extras !== null) (this.extras ??= newExtras()).heldInput = input;
  }

  constructor(role: Role, events: ConnectionEvents, options: ConnectionOptions = {}) {
    this.setup = setupOf(options);
    this.events = events;
    if (role === 'client') this.bits = Bit.Client;
  }

  /** A client masks what it sends. */
  private get masking(): boolean {
    return (this.bits & Bit.Client) !== 0;
  }

  /** Payloads up to this size are copied next to their header (see `ConnectionOptions`). */
  private get copyThreshold(): number {
    return this.setup.copyThreshold;
  }

  /** The message being received (only called while frames are read, so while the parser is a FrameParser). */
  private get assembler(): MessageAssembler {
    return (this.parser as FrameParser).assembler!;
  }

  private startParsing(): Parser {
    const limits = this.setup.limits;
    const parser = new FrameParser(this, {
      expectMasked: !this.masking,
      maxFrameSize: limits.maxFrameSize,
      maxFragments: limits.maxFragments,
    });
    parser.allowRsv1 = this.extension !== null;
    parser.assembler = new MessageAssembler(limits.maxMessageSize);
    this.parser = parser;
    return parser;
  }

  /** Whether data can still be sent: no close frame sent or received, no failure, not disposed. */
  canWrite(): boolean {
    return (this.bits & (Bit.Ending | Bit.Disposed)) === 0;
  }

  /** @internal _Fail the WebSocket Connection_ (see `Connection.fail`): a read that throws does. */
  abstract fail(error: ProtocolViolation): void;

  /** @internal The peer's close frame arrived (the closing handshake is `Connection`'s). */
  protected abstract onCloseFrame(payload: Buffer): void;

  // ---- input ----

  /** Feeds bytes read from the transport. Violations fail the connection; nothing is thrown. */
  receive(chunk: Buffer): void {
    if ((this.bits & Bit.InputHeld) !== 0) {
      // Kept, not read: the caller stops reading the transport while input is held.
      this.heldInput = this.heldInput === null ? Buffer.from(chunk) : Buffer.concat([this.heldInput, chunk]);
      return;
    }
    this.read(chunk);
  }

  /**
   * Feeds bytes whose memory the caller reuses once this returns (a binding's read buffer):
   * whatever outlives the call is copied. A message that arrived whole is copied as it is
   * unmasked, into a slab cut per read (`copy-slab.ts`); pieces of longer messages are
   * copied into the message's buffer as always, and held bytes are copied too. Worth it for
   * large reads, where it saves copying the whole read first; for small ones, a view per
   * message costs more than one copy of the read.
   */
  receiveLent(chunk: Buffer): void {
    if ((this.bits & Bit.InputHeld) !== 0) {
      this.receive(chunk);
      return;
    }
    const parser = this.parser ?? this.startParsing();
    const assembler = parser instanceof FrameParser ? parser.assembler : null;
    if (assembler === null) {
      this.read(chunk); // a closed connection's parser, which only discards
      return;
    }
    assembler.lent = true;
    assembler.inKernel = inKernelReadMemory(chunk);
    expectCopies(chunk.length);
    try {
      this.read(chunk);
    } finally {
      assembler.lent = false;
      assembler.inKernel = false;
    }
  }

  /** @internal Runs the parser over `chunk`; what is left when a handler holds input is kept. */
  protected read(chunk: Buffer): void {
    this.bits |= Bit.Reading;
    try {
      let rest = chunk;
      for (;;) {
        // The parser stops early only when a handler held input; it may have let go already.
        const used = (this.parser ?? this.startParsing()).receive(rest);
        if (used >= rest.length) break;
        rest = rest.subarray(used);
        if ((this.bits & Bit.InputHeld) !== 0) {
          // A copy: the caller may reuse the chunk's memory once this returns.
          this.heldInput = Buffer.from(rest);
          break;
        }
      }
    } catch (error) {
      this.fail(toViolation(error));
    } finally {
      this.bits &= ~Bit.Reading;
    }
  }

  dataFrameStart(opcode: number, fin: boolean, rsv1: boolean, length: number): void {
    let bits = this.bits;
    if (opcode !== Opcode.Continuation) {
      const binary = opcode === Opcode.Binary;
      bits &= ~(Bit.MessageBinary | Bit.MessageCompressed);
      if (binary) bits |= Bit.MessageBinary;
      if (rsv1) bits |= Bit.MessageCompressed;
      // Compressed text is validated after inflating, as it comes out of the decoder.
      this.assembler.begin(!binary);
    }
    this.bits = fin ? bits | Bit.FrameFin : bits & ~Bit.FrameFin;
    if ((bits & Bit.MessageCompressed) === 0) this.assembler.frameStart(length, fin);
  }

  dataFramePayload(piece: Buffer, mask: number, frameEnd: boolean): void {
    const bits = this.bits;
    const messageEnd = frameEnd && (bits & Bit.FrameFin) !== 0;
    const assembler = this.assembler;
    if ((bits & Bit.MessageCompressed) !== 0) {
      assembler.unmaskInPlace(piece, mask);
      this.extension!.decode(piece, messageEnd, assembler);
    } else if (messageEnd && assembler.isEmpty) {
      // A message that arrived whole: handed on from the piece, never stored.
      this.events.messageReceived(assembler.takeWhole(piece, mask), (bits & Bit.MessageBinary) !== 0);
      return;
    } else {
      assembler.append(piece, mask, frameEnd);
    }
    if (messageEnd) this.events.messageReceived(assembler.take(), (bits & Bit.MessageBinary) !== 0);
  }

  controlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      // RFC 6455 §5.5.2: a Pong is sent in response, with the Ping's application data —
      // unless a Close frame has already been sent.
      if (this.canWrite()) this.writeFrame(Opcode.Pong, true, payload);
      this.events.pingReceived(payload);
    } else if (opcode === Opcode.Pong) {
      this.events.pongReceived(payload);
    } else {
      this.onCloseFrame(payload);
    }
  }

  // ---- output ----

  /**
   * Sends a whole text message (a string is encoded as UTF-8; bytes are sent as they are).
   * With a compression extension, `compress` overrides its size threshold for this message.
   */
  sendText(data: string | Uint8Array, compress?: boolean): boolean {
    return this.sendData(Opcode.Text, data, true, compress);
  }

  /**
   * Sends a whole binary message. With a compression extension, `compress` overrides its size
   * threshold for this message. Returns false (sending nothing) once a close frame has been sent.
   */
  sendBinary(data: Uint8Array, compress?: boolean): boolean {
    return this.sendData(Opcode.Binary, data, true, compress);
  }

  /**
   * Sends one fragment of a message: the first call for a message gives its type, later
   * calls continue it, and `fin` ends it. Control frames may be sent in between.
   */
  sendFragment(isBinary: boolean, data: string | Uint8Array, fin: boolean): boolean {
    return this.sendData(isBinary ? Opcode.Binary : Opcode.Text, data, fin);
  }

  /**
   * Writes a whole data frame encoded elsewhere, as it is: a message framed once for many
   * connections (a topic publish). Server role only, since a client's frames each need a fresh
   * masking key. Returns false, writing nothing, once a close frame has been sent, and while a
   * fragmented message is being sent: a frame cannot go between its fragments (RFC 6455 §5.4),
   * so the caller holds it until the final fragment (the Node `Socket` does).
   */
  sendPrepared(frame: Uint8Array): boolean {
    if (this.masking) throw new UsageError('prepared frames are unmasked: only a server can send them');
    if (!this.canWrite() || (this.bits & Bit.SendingFragments) !== 0) return false;
    this.events.write(frame);
    return true;
  }

  /** Returns false (and sends nothing) once a close frame has been sent. */
  private sendData(opcode: number, data: string | Uint8Array, fin: boolean, compress?: boolean): boolean {
    if (!this.canWrite()) return false;
    const extension = this.extension;
    const first = (this.bits & Bit.SendingFragments) === 0;
    // Measured once: the size decides compression, and a text frame is sized by it.
    let textLength: number | undefined;
    if (extension !== null && first) {
      if (fin) {
        const size = typeof data === 'string' ? (textLength = Buffer.byteLength(data)) : data.length;
        const encoding = extension.encoding(size, compress);
        if (encoding !== 'plain') {
          const bytes = toBytes(data);
          if (encoding === 'compressed') this.writeFrame(opcode, true, extension.encode(bytes), true);
          else this.writePieces(opcode, true, extension.store(bytes, true));
          return true;
        }
      } else {
        // Fragments are never compressed, but may be wrapped.
        if (extension.encoding(0, false) === 'stored') this.bits |= Bit.StoringFragments;
        else this.bits &= ~Bit.StoringFragments;
      }
    }
    const frameOpcode = first ? opcode : Opcode.Continuation;
    if (fin) this.bits &= ~Bit.SendingFragments;
    else this.bits |= Bit.SendingFragments;
    if ((this.bits & Bit.StoringFragments) !== 0 && extension !== null) {
      // RFC 7692 §6.1: RSV1 on the first frame marks the whole message.
      this.writePieces(frameOpcode, fin, extension.store(toBytes(data), fin), first);
      if (fin) this.bits &= ~Bit.StoringFragments;
      return true;
    }
    this.writeFrame(frameOpcode, fin, data, false, textLength);
    return true;
  }

  /**
   * Writes a data frame whose payload is `pieces`, in order: gathered into one buffer when it
   * is small or must be masked; otherwise written as they are, so a large payload is not copied.
   */
  private writePieces(opcode: number, fin: boolean, pieces: readonly Uint8Array[], rsv1 = true): void {
    let length = 0;
    for (const piece of pieces) length += piece.length;
    if (this.masking || length <= this.copyThreshold) {
      const maskKey = this.masking ? nextMaskingKey() : null;
      this.events.write(encodePiecesFrame(opcode, fin, rsv1, pieces, length, maskKey));
      return;
    }
    this.events.write(encodeHeader(opcode, fin, rsv1, length));
    for (const piece of pieces) this.events.write(piece);
  }

  /** @internal Writes one frame whose payload is `payload` (encoded as UTF-8 when a string). */
  protected writeFrame(
    opcode: number,
    fin: boolean,
    payload: string | Uint8Array,
    rsv1 = false,
    textLength?: number,
  ): void {
    const maskKey = this.masking ? nextMaskingKey() : null;
    if (maskKey === null && this.events.reserve !== undefined) {
      // Measured once, for the sink's answer and for the frame made if it has no room.
      if (typeof payload === 'string') textLength ??= Buffer.byteLength(payload, 'utf8');
      if (this.encodeInPlace(opcode, fin, rsv1, payload, textLength)) return;
    }
    if (typeof payload === 'string') {
      this.events.write(encodeTextFrame(opcode, fin, rsv1, payload, maskKey, textLength));
    } else if (maskKey !== null || payload.length <= this.copyThreshold) {
      this.events.write(encodeFrame(opcode, fin, rsv1, payload, maskKey));
    } else {
      this.events.write(encodeHeader(opcode, fin, rsv1, payload.length));
      this.events.write(payload);
    }
  }

  /** Encodes an unmasked frame straight into the sink's buffer (see `ConnectionEvents.reserve`); false when it has no room. */
  private encodeInPlace(
    opcode: number,
    fin: boolean,
    rsv1: boolean,
    payload: string | Uint8Array,
    textLength: number | undefined,
  ): boolean {
    const events = this.events;
    const text = typeof payload === 'string';
    const length = text ? textLength! : payload.length;
    const at = events.reserve!(headerLength(length, false) + length);
    if (at < 0) return false;
    const target = events.frameTarget!;
    const offset = writeHeader(target, opcode, fin, rsv1, length, null, at);
    if (text) target.write(payload, offset, length, 'utf8');
    else target.set(payload, offset);
    return true;
  }
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
