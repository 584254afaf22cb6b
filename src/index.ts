/**
 * wsx: a WebSocket stack for Node.js — server, client and the protocol core under them.
 */
export { type ConnectOptions, connect } from './client/connect.js';
export {
  DEFAULT_SOCKET_SETTINGS,
  type ReadyState,
  type SendStatus,
  Socket,
  type SocketHandlers,
  type SocketSettings,
} from './node/socket.js';
export type { CloseInfo } from './protocol/close.js';
export {
  CloseCode,
  HandshakeError,
  ProtocolViolation,
  UsageError,
  WebSocketError,
} from './protocol/errors.js';
export { type ConnectionLimits, DEFAULT_LIMITS } from './protocol/limits.js';
export {
  createServer,
  type ListenOptions,
  type RouteOptions,
  type ServerOptions,
  WebSocketServer,
} from './server/server.js';
export {
  reject,
  type UpgradeAcceptance,
  type UpgradeContext,
  type UpgradeHook,
  UpgradeRejection,
} from './server/upgrade.js';
