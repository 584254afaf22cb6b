/**
 * Every error wsx raises, each named after what went wrong, with a stable `code` string
 * and — for protocol violations — the close code RFC 6455 names for it. The table below
 * is the one place where violations map to close codes.
 */

/**
 * Close codes wsx sends when it fails a connection (RFC 6455 §7.4.1), by name.
 *
 * @example
 * ```ts
 * import { CloseCode, WebSocket } from 'wsx';
 * const ws = new WebSocket('ws://127.0.0.1:8080/');
 * ws.addEventListener('close', (event) => {
 *   if (event.code === CloseCode.MessageTooBig) console.log('a message was over the limit');
 * });
 * ```
 */
export const CloseCode = {
  /** 1000: the purpose of the connection is fulfilled. */
  Normal: 1000,
  /** 1001: an endpoint is going away (a server shutting down, a page navigated away). */
  GoingAway: 1001,
  /** 1002: the peer broke the protocol. */
  ProtocolError: 1002,
  /** 1003: a message of a type the endpoint cannot accept. */
  UnsupportedData: 1003,
  /** 1005: reported locally when a close frame carried no code; never sent. */
  NoStatus: 1005,
  /** 1006: reported locally when the connection ended without a close frame; never sent. */
  Abnormal: 1006,
  /** 1007: a message's data did not match its type (text that is not UTF-8). */
  InvalidPayload: 1007,
  /** 1008: a message broke a policy of the endpoint (e.g. too many fragments). */
  PolicyViolation: 1008,
  /** 1009: a frame or message over the endpoint's size limit. */
  MessageTooBig: 1009,
  /** 1010: the client needed an extension the server did not negotiate. */
  MandatoryExtension: 1010,
  /** 1011: an unexpected condition on the server (the peer learns no more). */
  InternalError: 1011,
  /** 1013: the server is overloaded; try again later. */
  TryAgainLater: 1013,
} as const;

/** The close code sent to the peer for each violation. */
export const CLOSE_CODE_FOR = {
  /** For {@link ReservedBitsError}. */
  WSX_RESERVED_BITS: CloseCode.ProtocolError,
  /** For {@link ReservedOpcodeError}. */
  WSX_RESERVED_OPCODE: CloseCode.ProtocolError,
  /** For {@link UnmaskedClientFrameError}. */
  WSX_UNMASKED_CLIENT_FRAME: CloseCode.ProtocolError,
  /** For {@link MaskedServerFrameError}. */
  WSX_MASKED_SERVER_FRAME: CloseCode.ProtocolError,
  /** For {@link ControlFrameTooLongError}. */
  WSX_CONTROL_FRAME_TOO_LONG: CloseCode.ProtocolError,
  /** For {@link FragmentedControlFrameError}. */
  WSX_FRAGMENTED_CONTROL_FRAME: CloseCode.ProtocolError,
  /** For {@link UnexpectedContinuationError}. */
  WSX_UNEXPECTED_CONTINUATION: CloseCode.ProtocolError,
  /** For {@link ExpectedContinuationError}. */
  WSX_EXPECTED_CONTINUATION: CloseCode.ProtocolError,
  /** For {@link LengthOverflowError}. */
  WSX_LENGTH_OVERFLOW: CloseCode.ProtocolError,
  /** For {@link InvalidClosePayloadError}. */
  WSX_INVALID_CLOSE_PAYLOAD: CloseCode.ProtocolError,
  /** For {@link InvalidCloseCodeError}. */
  WSX_INVALID_CLOSE_CODE: CloseCode.ProtocolError,
  /** For {@link InvalidUtf8Error}. */
  WSX_INVALID_UTF8: CloseCode.InvalidPayload,
  /** For {@link InvalidCloseReasonError}. */
  WSX_INVALID_CLOSE_REASON: CloseCode.InvalidPayload,
  /** For {@link InvalidCompressedDataError}. */
  WSX_INVALID_COMPRESSED_DATA: CloseCode.InvalidPayload,
  /** For {@link FrameTooBigError}. */
  WSX_FRAME_TOO_BIG: CloseCode.MessageTooBig,
  /** For {@link MessageTooBigError}. */
  WSX_MESSAGE_TOO_BIG: CloseCode.MessageTooBig,
  /** For {@link TooManyFragmentsError}. */
  WSX_TOO_MANY_FRAGMENTS: CloseCode.PolicyViolation,
  /** For {@link InternalError}. */
  WSX_INTERNAL: CloseCode.InternalError,
} as const;

/** The stable `code` of each {@link ProtocolViolation}, e.g. `WSX_INVALID_UTF8`. */
export type ViolationCode = keyof typeof CLOSE_CODE_FOR;

/**
 * Base class of every error wsx throws or reports. Test for a kind with `instanceof` or by
 * `code`, which stays the same across versions.
 *
 * @example
 * ```ts
 * import { WebSocketError } from 'wsx';
 * function describe(error: unknown): string {
 *   return error instanceof WebSocketError ? `${error.code}: ${error.message}` : String(error);
 * }
 * ```
 */
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
/** `WSX_RESERVED_BITS` (1002): RSV1-3 set on a frame that no negotiated extension explains. */
export class ReservedBitsError extends violation(
  'WSX_RESERVED_BITS',
  'reserved bits set without a negotiated extension',
) {}
/** `WSX_RESERVED_OPCODE` (1002): a frame with an opcode RFC 6455 reserves (0x3-0x7, 0xB-0xF). */
export class ReservedOpcodeError extends violation('WSX_RESERVED_OPCODE', 'reserved opcode') {}
/** `WSX_UNMASKED_CLIENT_FRAME` (1002): a server received a frame its client did not mask. */
export class UnmaskedClientFrameError extends violation(
  'WSX_UNMASKED_CLIENT_FRAME',
  'client frame is not masked',
) {}
/** `WSX_MASKED_SERVER_FRAME` (1002): a client received a masked frame from its server. */
export class MaskedServerFrameError extends violation('WSX_MASKED_SERVER_FRAME', 'server frame is masked') {}
/** `WSX_CONTROL_FRAME_TOO_LONG` (1002): a ping, pong or close frame with over 125 bytes of payload. */
export class ControlFrameTooLongError extends violation(
  'WSX_CONTROL_FRAME_TOO_LONG',
  'control frame payload over 125 bytes',
) {}
/** `WSX_FRAGMENTED_CONTROL_FRAME` (1002): a control frame without the FIN bit. */
export class FragmentedControlFrameError extends violation(
  'WSX_FRAGMENTED_CONTROL_FRAME',
  'control frame is fragmented',
) {}
/** `WSX_UNEXPECTED_CONTINUATION` (1002): a continuation frame when no message was in progress. */
export class UnexpectedContinuationError extends violation(
  'WSX_UNEXPECTED_CONTINUATION',
  'continuation frame without a message to continue',
) {}
/** `WSX_EXPECTED_CONTINUATION` (1002): a new text or binary frame before the last message ended. */
export class ExpectedContinuationError extends violation(
  'WSX_EXPECTED_CONTINUATION',
  'new data frame inside a fragmented message',
) {}
/** `WSX_LENGTH_OVERFLOW` (1002): a 64-bit payload length with its most significant bit set. */
export class LengthOverflowError extends violation(
  'WSX_LENGTH_OVERFLOW',
  '64-bit payload length has its most significant bit set',
) {}
/** `WSX_INVALID_CLOSE_PAYLOAD` (1002): a close frame whose payload is a single byte. */
export class InvalidClosePayloadError extends violation(
  'WSX_INVALID_CLOSE_PAYLOAD',
  'close frame payload of 1 byte',
) {}
/** `WSX_INVALID_CLOSE_CODE` (1002): a close frame with a code that may not be sent on the wire. */
export class InvalidCloseCodeError extends violation('WSX_INVALID_CLOSE_CODE', 'invalid close code') {}
/** `WSX_INVALID_UTF8` (1007): a text message that is not valid UTF-8. */
export class InvalidUtf8Error extends violation('WSX_INVALID_UTF8', 'text message is not valid UTF-8') {}
/** `WSX_INVALID_CLOSE_REASON` (1007): a close reason that is not valid UTF-8. */
export class InvalidCloseReasonError extends violation(
  'WSX_INVALID_CLOSE_REASON',
  'close reason is not valid UTF-8',
) {}
/** `WSX_INVALID_COMPRESSED_DATA` (1007): a compressed message that does not inflate. */
export class InvalidCompressedDataError extends violation(
  'WSX_INVALID_COMPRESSED_DATA',
  'compressed message cannot be inflated',
) {}
/** `WSX_FRAME_TOO_BIG` (1009): a frame over {@link ConnectionLimits.maxFrameSize}. */
export class FrameTooBigError extends violation('WSX_FRAME_TOO_BIG', 'frame payload over maxFrameSize') {}
/** `WSX_MESSAGE_TOO_BIG` (1009): a message (after inflating) over {@link ConnectionLimits.maxMessageSize}. */
export class MessageTooBigError extends violation('WSX_MESSAGE_TOO_BIG', 'message over maxMessageSize') {}
/** `WSX_TOO_MANY_FRAGMENTS` (1008): a message split into more than {@link ConnectionLimits.maxFragments} frames. */
export class TooManyFragmentsError extends violation(
  'WSX_TOO_MANY_FRAGMENTS',
  'message split into more than maxFragments frames',
) {}

/** An unexpected failure inside wsx or a handler; the peer sees 1011 and no details. */
export class InternalError extends violation('WSX_INTERNAL', 'internal error') {}

/** `WSX_HANDSHAKE`: the opening handshake failed. On the server, `status` is the HTTP status sent back. */
export class HandshakeError extends WebSocketError {
  /** The HTTP status: sent back by a server, or received by a client (0 when no usable status came: a malformed, oversized or late response). */
  readonly status: number;
  /** Headers that go with the status (e.g. `Sec-WebSocket-Version` with a 426). */
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

/** `WSX_USAGE`: an argument given to a wsx API is invalid (a bad close code, a send in the wrong state...). */
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
