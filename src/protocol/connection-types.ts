// The types a Connection is made and driven with: its role, the I/O events it calls, its
// options and its closing state.
import type { CloseInfo } from './close.js';
import type { ProtocolViolation } from './errors.js';
import type { ConnectionLimits } from './limits.js';

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
