import {
  type CloseInfo,
  encodeClosePayload,
  parseClosePayload,
  reasonText,
  validateCloseToSend,
} from './close.js';
import { CloseCode, type ProtocolViolation, toViolation, UsageError } from './errors.js';
import type { SharedCompression } from './extensions/shared-compression.js';
import { type ConnectionLimits, resolveLimits } from './limits.js';
import { nextMaskingKey, xorInPlace } from './mask.js';
import { MessageAssembler } from './message.js';
import type { MessageExtension } from './message-extension.js';
import { Opcode } from './opcodes.js';
import { DISCARDING_PARSER, FrameParser, type FrameSink, type Parser } from './parser.js';
import {
  encodeFrame,
  encodeHeader,
  encodePiecesFrame,
  encodeTextFrame,
  headerLength,
  writeHeader,
} from './serializer.js';

/** Which end of the connection this is. */
export type Role = 'server' | 'client';

/**
 * What a Connection asks of its I/O layer. The protocol core never touches a socket or a
 * timer: it calls these, and the layer above does the I/O.
 */
export interface ConnectionEvents {
  /** Bytes to write to the transport, in order. */
  write(data: Uint8Array): void;
  /** A whole message: `data` is valid UTF-8 when `isBinary` is false. */
  messageReceived(data: Buffer, isBinary: boolean): void;
  /** A ping arrived (the pong has already been queued). */
  pingReceived(payload: Buffer): void;
  /** A pong arrived. */
  pongReceived(payload: Buffer): void;
  /**
   * The peer's close frame arrived. Unless a close frame was already sent, `close(code, reason)`
   * called from here is the reply; otherwise the peer's code and reason are echoed on return.
   */
  closeReceived(info: CloseInfo): void;
  /** The connection failed because of `error`; a close frame with its code has been queued. */
  failed(error: ProtocolViolation): void;
  /**
   * Close the transport now. The server closes TCP first (RFC 6455 §7.1.1); a client is
   * asked only when it fails the connection, and otherwise waits for the server.
   */
  endTransport(): void;
  /**
   * Optional: room for a whole unmasked frame of `size` bytes, which the connection then encodes
   * in place in `frameTarget` at the offset returned (the bytes count as written, in order with
   * `write`); -1 when there is none (too large, transport closed), and `write` is used. It
   * saves the frame's own buffer and the copy of it into the transport's.
   */
  reserve?(size: number): number;
  /** Where `reserve` gives room: valid until the next call of `write` or `reserve`. */
  readonly frameTarget?: Buffer;
}

/** Options of a {@link Connection}: its limits (defaults in {@link DEFAULT_LIMITS}) and output tuning. */
export interface ConnectionOptions extends Partial<ConnectionLimits> {
  /** Payloads up to this size are copied next to their frame header in one buffer; larger ones are written as they are. Default 16 KiB. */
  readonly copyThreshold?: number;
}

/** The closing handshake's progress (RFC 6455 §7). */
export type ConnectionState = 'open' | 'closing' | 'closed';

const DEFAULT_COPY_THRESHOLD = 16 * 1024;
const MAX_REASON_CHARS = 100;

/** The bits of `Connection.bits`: its yes/no states in one field (an idle connection is small). */
enum Bit {
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

/** What few connections need, made on first use: the closing handshake's record, held input, an extension. */
interface Extras {
  sent: CloseInfo | null;
  received: CloseInfo | null;
  failure: ProtocolViolation | null;
  /** While input is held (see `holdInput`), what was not read yet. */
  heldInput: Buffer | null;
  extension: MessageExtension | null;
}

/**
 * One WebSocket connection after the opening handshake, with no I/O: `receive` takes bytes
 * and emits events; `send*`, `ping`, `close` produce bytes through `events.write`.
 */
export class Connection implements FrameSink {
  private readonly events: ConnectionEvents;
  /** Limits and output tuning, shared by the connections made with the same options. */
  private readonly setup: Setup;
  /** Null until the first bytes arrive (an idle connection holds no parsing state); it carries the message assembler. */
  private parser: Parser | null = null;
  /** The yes/no states (`Bit`), one field instead of ten. */
  private bits = 0;

  /** Our close frame, once sent (null before). */
  get closeSent(): CloseInfo | null {
    return this.extras === null ? null : this.extras.sent;
  }
  /** The peer's close frame, once it has come (null before). */
  get closeReceived(): CloseInfo | null {
    return this.extras === null ? null : this.extras.received;
  }
  /** The violation that failed the connection, if one did (its close frame has been queued). */
  get failure(): ProtocolViolation | null {
    return this.extras === null ? null : this.extras.failure;
  }
  /** See `Extras`: null on a connection that is open, not paused and has no extension. */
  private extras: Extras | null = null;

  private get extension(): MessageExtension | null {
    return this.extras === null ? null : this.extras.extension;
  }

  private get heldInput(): Buffer | null {
    return this.extras === null ? null : this.extras.heldInput;
  }

  private set heldInput(input: Buffer | null) {
    if (input !== null || this.extras !== null) (this.extras ??= newExtras()).heldInput = input;
  }

  /** The record of the closing handshake, made as it starts. */
  private get ending(): Extras {
    this.bits |= Bit.Ending;
    return (this.extras ??= newExtras());
  }

  constructor(role: Role, events: ConnectionEvents, options: ConnectionOptions = {}) {
    this.setup = setupOf(options);
    this.events = events;
    if (role === 'client') this.bits = Bit.Client;
  }

  /** The peer closed its side of the transport. */
  get eofReceived(): boolean {
    return (this.bits & Bit.EofReceived) !== 0;
  }

  /** `client` masks what it sends and expects unmasked frames; `server` the reverse. */
  get role(): Role {
    return (this.bits & Bit.Client) !== 0 ? 'client' : 'server';
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

  /** Installs a negotiated extension that uses RSV1 for compressed messages. */
  useExtension(extension: MessageExtension): void {
    (this.extras ??= newExtras()).extension = extension;
    if (this.parser instanceof FrameParser) this.parser.allowRsv1 = true;
  }

  /** @internal For tests: the message assembler's work so far (bytes copied and validated). */
  get assemblyWork(): number {
    return this.parser instanceof FrameParser ? (this.parser.assembler?.work ?? 0) : 0;
  }

  /**
   * `open` until a close frame is sent or received, the connection fails or the peer ends its
   * side; `closed` once close frames have gone both ways; `closing` in between.
   */
  get state(): ConnectionState {
    if ((this.bits & (Bit.Ending | Bit.EofReceived)) === 0) return 'open';
    return this.closeSent !== null && this.closeReceived !== null ? 'closed' : 'closing';
  }

  /** Whether data can still be sent: no close frame sent or received, no failure, not disposed. */
  canWrite(): boolean {
    return (this.bits & (Bit.Ending | Bit.Disposed)) === 0;
  }

  /** Whether an outgoing fragmented message is in progress (its next frame is a continuation). */
  get isSendingFragments(): boolean {
    return (this.bits & Bit.SendingFragments) !== 0;
  }

  /** Whether incoming data is still processed: no close frame or failure yet. */
  canRead(): boolean {
    return this.parser !== DISCARDING_PARSER;
  }

  /** Whether the closing handshake completed: both close frames went across. */
  get wasClean(): boolean {
    return this.closeSent !== null && this.closeReceived !== null && this.failure === null;
  }

  /** The close code and reason to report once the transport has closed (RFC 6455 §7.1.5). */
  closeResult(): CloseInfo & {
    /** Whether the closing handshake completed: close frames went both ways, and nothing failed. */
    wasClean: boolean;
  } {
    const received = this.closeReceived;
    if (received !== null) return { code: received.code, reason: received.reason, wasClean: this.wasClean };
    if (this.failure !== null)
      return { code: this.failure.closeCode, reason: this.failure.message, wasClean: false };
    return { code: CloseCode.Abnormal, reason: '', wasClean: false };
  }

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

  private read(chunk: Buffer): void {
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

  /**
   * Stops delivering: no message, ping, pong or close is read after the frame being delivered
   * now (when called from a handler), until `releaseInput`. Bytes that arrive meanwhile are kept.
   */
  holdInput(): void {
    if ((this.bits & Bit.InputHeld) !== 0) return;
    this.bits |= Bit.InputHeld;
    if ((this.bits & Bit.Reading) !== 0) this.parser?.yieldSoon();
  }

  /** Reads the bytes kept since `holdInput`, and goes on reading as they arrive. */
  releaseInput(): void {
    if ((this.bits & Bit.InputHeld) === 0) return;
    this.bits &= ~Bit.InputHeld;
    // Released by the handler that held it: the running read goes on by itself.
    if ((this.bits & Bit.Reading) !== 0) return;
    const held = this.heldInput;
    this.heldInput = null;
    if (held !== null) this.read(held);
    if ((this.bits & (Bit.EofPending | Bit.InputHeld)) === Bit.EofPending && this.heldInput === null) {
      this.receiveEof();
    }
  }

  /** Whether input is held, or bytes still wait to be read after `releaseInput`. */
  get isInputHeld(): boolean {
    return (this.bits & Bit.InputHeld) !== 0 || this.heldInput !== null;
  }

  /** The peer closed its side of the transport: nothing more will arrive. */
  receiveEof(): void {
    if (this.isInputHeld) {
      // What came before the end is still read, in order, when input is released.
      this.bits |= Bit.EofPending;
      return;
    }
    this.bits = (this.bits & ~Bit.EofPending) | Bit.EofReceived;
    this.stopReading();
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
      xorInPlace(piece, 0, piece.length, mask);
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

  private onCloseFrame(payload: Buffer): void {
    const info = parseClosePayload(payload);
    this.ending.received = info;
    this.stopReading();
    const answered = this.closeSent !== null;
    // The application hears of the close before it is answered, so that its own
    // close(code, reason) can be the answer (close() then ends the transport itself).
    this.events.closeReceived(info);
    if (answered) {
      // RFC 6455 §7.1.1: the server closes the TCP connection first.
      if (this.role === 'server') this.events.endTransport();
    } else if (this.closeSent === null && this.failure === null && (this.bits & Bit.Disposed) === 0) {
      // RFC 6455 §5.5.1: an endpoint that receives a Close frame and has not sent one MUST
      // send one in response, typically echoing the status code it received. The reason is
      // echoed too (it was validated as UTF-8 above), as browsers and other stacks do; an
      // empty payload is answered with an empty one.
      this.sendClose(info.code, payload.subarray(2));
      if (this.role === 'server') this.events.endTransport();
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

  /** How a message framed once for many sockets is compressed for this one (null: sent plain). */
  get sharedCompression(): SharedCompression | null {
    return this.extension?.sharedCompression ?? null;
  }

  /** Frees what an extension can rebuild on the next message (zlib contexts); for quiet connections. */
  hibernate(): boolean {
    return this.extension?.hibernate() ?? false;
  }

  /** Frees what the connection holds beyond itself (an extension's zlib contexts); call once the transport is gone. */
  dispose(): void {
    this.bits |= Bit.Disposed;
    const extras = this.extras;
    if (extras !== null && extras.extension !== null) {
      extras.extension.release();
      extras.extension = null;
    }
  }

  /**
   * Sends a ping (payload at most 125 bytes, else a {@link UsageError}). Returns false (sending
   * nothing) once a close frame has been sent.
   */
  ping(payload: Uint8Array = EMPTY): boolean {
    return this.sendControl(Opcode.Ping, payload);
  }

  /**
   * Sends a pong (payload at most 125 bytes, else a {@link UsageError}); pings received are
   * answered without this. Returns false (sending nothing) once a close frame has been sent.
   */
  pong(payload: Uint8Array = EMPTY): boolean {
    return this.sendControl(Opcode.Pong, payload);
  }

  private sendControl(opcode: number, payload: Uint8Array): boolean {
    if (payload.length > 125)
      throw new UsageError(`control frame payload is ${payload.length} bytes; the limit is 125`);
    if (!this.canWrite()) return false;
    this.writeFrame(opcode, true, payload);
    return true;
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). Without a code the close frame carries
   * no status (the peer sees 1005). Does nothing if a close frame was already sent.
   */
  close(code?: number, reason = ''): void {
    const reasonBytes = code === undefined ? EMPTY : validateCloseToSend(code, reason);
    if (this.closeSent !== null || this.failure !== null) return;
    this.sendClose(code ?? CloseCode.NoStatus, reasonBytes);
    if (this.closeReceived !== null && this.role === 'server') this.events.endTransport();
  }

  /**
   * _Fail the WebSocket Connection_ (RFC 6455 §7.1.7): send a close frame with the error's
   * code if none was sent, stop reading, and close the transport.
   */
  fail(error: ProtocolViolation): void {
    if (this.failure !== null) return;
    this.ending.failure = error;
    this.stopReading();
    if (this.closeSent === null && (this.bits & Bit.EofReceived) === 0) {
      // Details of internal errors stay here; the peer only learns the code.
      const reason =
        error.closeCode === CloseCode.InternalError ? '' : error.message.slice(0, MAX_REASON_CHARS);
      this.sendClose(error.closeCode, Buffer.from(reason, 'utf8'));
    }
    this.events.failed(error);
    this.events.endTransport();
  }

  private sendClose(code: number, reasonBytes: Uint8Array): void {
    this.writeFrame(Opcode.Close, true, encodeClosePayload(code, reasonBytes));
    this.ending.sent = { code, reason: reasonText(reasonBytes) };
  }

  private stopReading(): void {
    this.parser?.halt();
    this.parser = DISCARDING_PARSER;
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

  private writeFrame(
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

const EMPTY = Buffer.alloc(0);

/** A connection's resolved options. */
interface Setup {
  readonly limits: ConnectionLimits;
  readonly copyThreshold: number;
}

/** Options resolved, by options object: a server's connections all share one. */
const setups = new WeakMap<ConnectionOptions, Setup>();

function setupOf(options: ConnectionOptions): Setup {
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

function newExtras(): Extras {
  return { sent: null, received: null, failure: null, heldInput: null, extension: null };
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
