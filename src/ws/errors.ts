import type { ProtocolViolation } from '../protocol/errors.js';

/** Where ws code reads the close code an error fails the connection with. */
export const kStatusCode: unique symbol = Symbol.for('wsx.ws.statusCode') as never;

/** An error as ws reports it: a `code` string (`WS_ERR_...`) and the close code it sends. */
export type WsError = Error & { code?: string; [kStatusCode]?: number };

/**
 * The `WS_ERR_*` code (and message) ws reports for each violation wsx detects. Violations ws
 * does not detect (too many fragments) keep wsx's code.
 */
const WS_CODES: Record<string, readonly [string, string]> = {
  WSX_RESERVED_OPCODE: ['WS_ERR_INVALID_OPCODE', 'invalid opcode'],
  WSX_UNMASKED_CLIENT_FRAME: ['WS_ERR_EXPECTED_MASK', 'MASK must be set'],
  WSX_MASKED_SERVER_FRAME: ['WS_ERR_UNEXPECTED_MASK', 'MASK must be clear'],
  WSX_CONTROL_FRAME_TOO_LONG: ['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'invalid payload length'],
  WSX_FRAGMENTED_CONTROL_FRAME: ['WS_ERR_EXPECTED_FIN', 'FIN must be set'],
  WSX_UNEXPECTED_CONTINUATION: ['WS_ERR_INVALID_OPCODE', 'invalid opcode 0'],
  WSX_EXPECTED_CONTINUATION: ['WS_ERR_INVALID_OPCODE', 'invalid opcode'],
  WSX_LENGTH_OVERFLOW: ['WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 'payload length > 2^53 - 1'],
  WSX_INVALID_CLOSE_PAYLOAD: ['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'invalid payload length 1'],
  WSX_INVALID_CLOSE_CODE: ['WS_ERR_INVALID_CLOSE_CODE', 'invalid status code'],
  WSX_INVALID_UTF8: ['WS_ERR_INVALID_UTF8', 'invalid UTF-8 sequence'],
  WSX_INVALID_CLOSE_REASON: ['WS_ERR_INVALID_UTF8', 'invalid UTF-8 sequence'],
  WSX_FRAME_TOO_BIG: ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'Max payload size exceeded'],
  WSX_MESSAGE_TOO_BIG: ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'Max payload size exceeded'],
};

const NUMBERED = new Set(['WSX_RESERVED_OPCODE', 'WSX_CONTROL_FRAME_TOO_LONG', 'WSX_INVALID_CLOSE_CODE']);

/** The error a ws `error` listener is given for a violation: ws's code and wording, wsx's error as `cause`. */
export function toWsError(violation: ProtocolViolation): WsError {
  let error: WsError;
  const mapped = WS_CODES[violation.code];
  if (violation.code === 'WSX_RESERVED_BITS') {
    // The parser names the bits: RSV1 (set without a compression extension) or RSV2/RSV3.
    const rsv1 = !violation.message.includes('RSV2/RSV3');
    error = new RangeError(
      `Invalid WebSocket frame: ${rsv1 ? 'RSV1 must be clear' : 'RSV2 and RSV3 must be clear'}`,
      {
        cause: violation,
      },
    );
    error.code = rsv1 ? 'WS_ERR_UNEXPECTED_RSV_1' : 'WS_ERR_UNEXPECTED_RSV_2_3';
  } else if (mapped !== undefined) {
    const [code, text] = mapped;
    // ws names the offending value (opcode, length, status code) where wsx's detail has it.
    const value = NUMBERED.has(violation.code) ? /(\d+)(?: bytes)?$/.exec(violation.message)?.[1] : undefined;
    const wording = value === undefined ? text : `${text} ${value}`;
    const message = text.startsWith('Max') ? text : `Invalid WebSocket frame: ${wording}`;
    error =
      code === 'WS_ERR_INVALID_UTF8'
        ? new Error(message, { cause: violation })
        : new RangeError(message, { cause: violation });
    error.code = code;
  } else if (violation.code === 'WSX_INVALID_COMPRESSED_DATA' && violation.cause instanceof Error) {
    // ws hands on zlib's own error (its `code` is Z_DATA_ERROR and the like).
    error = violation.cause as WsError;
  } else {
    error = violation as WsError;
  }
  error[kStatusCode] = violation.closeCode;
  return error;
}

/** The error of a failed opening handshake, as ws words it. */
export function handshakeError(message: string): Error {
  const error = new Error(message);
  Error.captureStackTrace(error, handshakeError);
  return error;
}
