/**
 * wsx/protocol: the sans-I/O protocol core: bytes in, events out; calls in, bytes out.
 *
 * @module wsx/protocol
 */
export { type CloseInfo, isValidWireCloseCode, parseClosePayload } from './close.js';
export { Connection } from './connection.js';
export type { ConnectionEvents, ConnectionOptions, ConnectionState, Role } from './connection-types.js';
export * from './errors.js';
export { acceptKey, generateKey, isValidKey } from './handshake/accept.js';
export {
  buildUpgradeRequest,
  type UpgradeResponseChecks,
  validateUpgradeResponse,
} from './handshake/client.js';
export { type ExtensionOffer, HeaderMap, parseExtensions, parseTokenList } from './handshake/headers.js';
export { type HeadLimits, ResponseHeadReader } from './handshake/http-head.js';
export { buildAcceptResponse, buildRejectResponse, validateUpgradeRequest } from './handshake/server.js';
export { type ConnectionLimits, DEFAULT_LIMITS } from './limits.js';
export { Opcode } from './opcodes.js';
export { Utf8Validator } from './utf8.js';
