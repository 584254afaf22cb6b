/**
 * Every error wsx raises, each named after what went wrong, with a stable `code` string
 * and — for protocol violations — the close code RFC 6455 names for it. The table below
 * is the one place where violations map to close codes.
 */

/** Close codes wsx sends when it fails a connection (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  TryAgainLater: 1013,
} as const;

/** The close code sent to the peer for each violation. */
export const CLOSE_CODE_FOR = {
  WSX_RESERVED_BITS: CloseCode.ProtocolError,
  WSX_RESERVED_OPCODE: CloseCode.ProtocolError,
  WSX_UNMASKED_CLIENT_FRAME: CloseCode.ProtocolError,
  WSX_MASKED_SERVER_FRAME: CloseCode.ProtocolError,
  WSX_CONTROL_FRAME_TOO_LONG: CloseCode.ProtocolError,
  WSX_FRAGMENTED_CONTROL_FRAME: CloseCode.ProtocolError,
  WSX_UNEXPECTED_CONTINUATION: CloseCode.ProtocolError,
  WSX_EXPECTED_CONTINUATION: CloseCode.ProtocolError,
  WSX_LENGTH_OVERFLOW: CloseCode.ProtocolError,
  WSX_INVALID_CLOSE_PAYLOAD: CloseCode.ProtocolError,
  WSX_INVALID_CLOSE_CODE: CloseCode.ProtocolError,
  WSX_INVALID_UTF8: CloseCode.InvalidPayload,
  WSX_INVALID_CLOSE_REASON: CloseCode.InvalidPayload,
  WSX_INVALID_COMPRESSED_DATA: CloseCode.InvalidPayload,
  WSX_FRAME_TOO_BIG: CloseCode.MessageTooBig,
  WSX_MESSAGE_TOO_BIG: CloseCode.MessageTooBig,
  WSX_TOO_MANY_FRAGMENTS: CloseCode.PolicyViolation,
  WSX_INTERNAL: CloseCode.InternalError,
} as const;

export type ViolationCode = keyof typeof CLOSE_CODE_FOR;

/** Base class of every error wsx throws or reports. */
export class WebSocketError extends Error {
  /** A stable identifier, e.g. `WSX_INVALID_UTF8`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A violation of RFC 6455 (or of a local limit) by the peer; the connection is failed with `closeCode`. */
export class ProtocolViolation extends WebSocketError {
  declare readonly code: ViolationCode;
  /** The close code sent to the peer. */
  readonly closeCode: number;
  constructor(code: ViolationCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.closeCode = CLOSE_CODE_FOR[code];
  }
}

function violation(code: ViolationCode, message: string) {
  return class extends ProtocolViolation {
    constructor(detail?: string, options?: { cause?: unknown }) {
      super(code, detail ? `${message}: ${detail}` : message, options);
    }
  };
}

// One class per violation, so callers can test with `instanceof` as well as by `code`.
export class ReservedBitsError extends violation(
  'WSX_RESERVED_BITS',
  'reserved bits set without a negotiated extension',
) {}
export class ReservedOpcodeError extends violation('WSX_RESERVED_OPCODE', 'reserved opcode') {}
export class UnmaskedClientFrameError extends violation(
  'WSX_UNMASKED_CLIENT_FRAME',
  'client frame is not masked',
) {}
export class MaskedServerFrameError extends violation('WSX_MASKED_SERVER_FRAME', 'server frame is masked') {}
export class ControlFrameTooLongError extends violation(
  'WSX_CONTROL_FRAME_TOO_LONG',
  'control frame payload over 125 bytes',
) {}
export class FragmentedControlFrameError extends violation(
  'WSX_FRAGMENTED_CONTROL_FRAME',
  'control frame is fragmented',
) {}
export class UnexpectedContinuationError extends violation(
  'WSX_UNEXPECTED_CONTINUATION',
  'continuation frame without a message to continue',
) {}
export class ExpectedContinuationError extends violation(
  'WSX_EXPECTED_CONTINUATION',
  'new data frame inside a fragmented message',
) {}
export class LengthOverflowError extends violation(
  'WSX_LENGTH_OVERFLOW',
  '64-bit payload length has its most significant bit set',
) {}
export class InvalidClosePayloadError extends violation(
  'WSX_INVALID_CLOSE_PAYLOAD',
  'close frame payload of 1 byte',
) {}
export class InvalidCloseCodeError extends violation('WSX_INVALID_CLOSE_CODE', 'invalid close code') {}
export class InvalidUtf8Error extends violation('WSX_INVALID_UTF8', 'text message is not valid UTF-8') {}
export class InvalidCloseReasonError extends violation(
  'WSX_INVALID_CLOSE_REASON',
  'close reason is not valid UTF-8',
) {}
export class InvalidCompressedDataError extends violation(
  'WSX_INVALID_COMPRESSED_DATA',
  'compressed message cannot be inflated',
) {}
export class FrameTooBigError extends violation('WSX_FRAME_TOO_BIG', 'frame payload over maxFrameSize') {}
export class MessageTooBigError extends violation('WSX_MESSAGE_TOO_BIG', 'message over maxMessageSize') {}
export class TooManyFragmentsError extends violation(
  'WSX_TOO_MANY_FRAGMENTS',
  'message split into more than maxFragments frames',
) {}

/** An unexpected failure inside wsx or a handler; the peer sees 1011 and no details. */
export class InternalError extends violation('WSX_INTERNAL', 'internal error') {}

/** The opening handshake failed. On the server, `status` is the HTTP status sent back. */
export class HandshakeError extends WebSocketError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    status: number,
    message: string,
    options?: { headers?: Record<string, string>; cause?: unknown },
  ) {
    super('WSX_HANDSHAKE', message, options);
    this.status = status;
    this.headers = options?.headers ?? {};
  }
}

/** An argument given to a wsx API is invalid (a bad close code, a send in the wrong state...). */
export class UsageError extends WebSocketError {
  constructor(message: string) {
    super('WSX_USAGE', message);
  }
}

/** Turns anything thrown into a ProtocolViolation: unexpected errors become 1011 `InternalError`. */
export function toViolation(error: unknown): ProtocolViolation {
  if (error instanceof ProtocolViolation) return error;
  return new InternalError(undefined, { cause: error });
}
