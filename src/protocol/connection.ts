// The Connection: the closing handshake, held input, control frames, the extension's life and
// the state queries. Its fields and the paths every frame takes are in connection-core.ts.
import {
  type CloseInfo,
  encodeClosePayload,
  failureReason,
  parseClosePayload,
  reasonText,
  validateCloseToSend,
} from './close.js';
import { Bit, ConnectionCore } from './connection-core.js';
import { type Extras, newExtras } from './connection-setup.js';
import type { ConnectionState, Role } from './connection-types.js';
import { CloseCode, type ProtocolViolation, UsageError } from './errors.js';
import type { SharedCompression } from './extensions/shared-compression.js';
import type { MessageExtension } from './message-extension.js';
import { Opcode } from './opcodes.js';
import { DISCARDING_PARSER, FrameParser, type FrameSink } from './parser.js';

/**
 * One WebSocket connection after the opening handshake, with no I/O: `receive` takes bytes
 * and emits events; `send*`, `ping`, `close` produce bytes through `events.write`.
 */
export class Connection extends ConnectionCore implements FrameSink {
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

  /** The record of the closing handshake, made as it starts. */
  private get ending(): Extras {
    this.bits |= Bit.Ending;
    return (this.extras ??= newExtras());
  }

  /** The peer closed its side of the transport. */
  get eofReceived(): boolean {
    return (this.bits & Bit.EofReceived) !== 0;
  }

  /** `client` masks what it sends and expects unmasked frames; `server` the reverse. */
  get role(): Role {
    return (this.bits & Bit.Client) !== 0 ? 'client' : 'server';
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

  /** @internal The peer's close frame: recorded, told to the application, answered. */
  protected onCloseFrame(payload: Buffer): void {
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
      this.sendClose(error.closeCode, failureReason(error));
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
}

const EMPTY = Buffer.alloc(0);
