/**
 * wsx: a WebSocket stack for Node.js — server, client and the protocol core under them.
 *
 * @module wsx
 */

export { Backoff, type BackoffOptions } from './client/backoff.js';
export { type ConnectOptions, connect } from './client/connect.js';
// Client: WHATWG WebSocket, WebSocketStream, reconnection, proxies, unix sockets, redirects.
export { type DialOptions, dial } from './client/dial.js';
export {
  CloseEvent,
  DropEvent,
  ErrorEvent,
  type EventHandler,
  type Listener,
  type MessageData,
  MessageEvent,
  ReconnectEvent,
  type SendData,
} from './client/events.js';
export { HeartbeatTimeoutError } from './client/heartbeat.js';
export { ProxyError, type ProxyOption } from './client/proxy.js';
export { ReconnectingWebSocket } from './client/reconnect.js';
export type {
  Disconnection,
  QueuePolicy,
  ReconnectingWebSocketEventMap,
  ReconnectingWebSocketOptions,
  ReconnectOptions,
} from './client/reconnect-options.js';
export {
  type ChatProtocolMessage,
  ResumableTopics,
  type ResumePosition,
} from './client/resumable-topics.js';
export { WebSocket } from './client/websocket.js';
export type { BinaryType, WebSocketEventMap, WebSocketOptions } from './client/websocket-options.js';
export {
  type WebSocketCloseInfo,
  type WebSocketOpenInfo,
  WebSocketStream,
  WebSocketStreamError,
  type WebSocketStreamOptions,
} from './client/websocket-stream.js';
export type { BackpressurePolicy, TrafficCounters } from './node/socket.js';
export {
  DEFAULT_SOCKET_SETTINGS,
  type ReadyState,
  type SendStatus,
  Socket,
  type SocketHandlers,
  type SocketSettings,
  type Transport,
} from './node/socket.js';
export type { HttpVersion } from './node/transport.js';
export type { CloseInfo } from './protocol/close.js';
export {
  CloseCode,
  HandshakeError,
  ProtocolViolation,
  UsageError,
  WebSocketError,
} from './protocol/errors.js';
export { type ConnectionLimits, DEFAULT_LIMITS } from './protocol/limits.js';
export type { ProxyHeader, TrustProxy } from './server/client-address.js';
export { OperationalNotice, type ServerErrorContext } from './server/errors.js';
export type { HeartbeatOptions } from './server/heartbeat.js';
export type { AnyHttp2Server, Http2Limits } from './server/http2-intake.js';
export type { IpcEndpoint } from './server/ipc-channel.js';
export { IpcTopicRelay, type IpcTopicRelayOptions, ipcTopicRelay } from './server/ipc-relay.js';
export {
  IpcTopicAdapter,
  type IpcTopicAdapterOptions,
  type IpcTopicMessage,
  type IpcTopicStats,
} from './server/ipc-topics.js';
export { MemoryTopicBus } from './server/memory-topic-bus.js';
export { PROMETHEUS_CONTENT_TYPE, prometheusText } from './server/metrics.js';
export { PreparedMessage, type SharedCompression } from './server/prepared.js';
export type { RealtimeRouteOptions, RealtimeServerOptions, ShutdownReport } from './server/realtime.js';
export { createServer, WebSocketServer } from './server/server.js';
export type { ListenOptions, RouteOptions, ServerOptions } from './server/server-options.js';
export { type ServerHandlers, ServerSocket } from './server/server-socket.js';
export type { ServerStats } from './server/stats.js';
export type {
  AdapterStats,
  SubscribeOptions,
  TopicAdapter,
  TopicDelivery,
  TopicHistory,
  TopicPosition,
  TopicRecovery,
} from './server/topic-adapter.js';
export {
  type PublishResult,
  type TopicEnvelope,
  type TopicMessage,
  TopicRegistry,
  type TopicRegistryOptions,
} from './server/topics.js';
export {
  reject,
  type UpgradeAcceptance,
  type UpgradeContext,
  type UpgradeHook,
  UpgradeRejection,
} from './server/upgrade.js';
