export {
  WebSocketServer,
  type CloseServerOptions,
  type WebSocketServerEvents,
} from './web-socket-server.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  type WebSocketServerOptions,
} from './web-socket-server-options.js';
export { ServerConnection, type ServerConnectionSetup, type TopicMembership } from './server-connection.js';
export type { PublishOptions } from './topic-registry.js';
export type { Adapter, DeliverRemote, PublishFlags } from './adapter.js';
export { ClusterAdapter } from './cluster/cluster-adapter.js';
export type { ClusterHub } from './cluster/cluster-hub.js';
export {
  encodeMessage,
  encodeCompressedMessage,
  type BroadcastOptions,
  type BroadcastResult,
  type EncodeMessageOptions,
} from './broadcast.js';
export type {
  Authenticate,
  AuthenticateResult,
  HandshakeInfo,
  OriginPolicy,
} from './upgrade/handle-upgrade.js';
export { rejectUpgrade, type UpgradeRejection } from './upgrade/reject-upgrade.js';
export type { WebSocketRequest } from './upgrade/web-socket-request.js';
export {
  BackpressurePolicy,
  ConnectionCloseReason,
  ConnectionError,
  ConnectionErrorCode,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_FRAGMENT_SIZE,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  DEFAULT_OUTPUT_HIGH_WATER_MARK,
  DEFAULT_RECEIVE_HIGH_WATER_MARK,
  PingTimeoutError,
  SendStatus,
  type CloseInfo,
  type ConnectionOptions,
  type HeartbeatOptions,
  type Message,
  type PingOptions,
  type ReceivedMessage,
  type SendData,
  type SendOptions,
} from '@ws/core/node';
export { ReceiveMode, type PerMessageDeflateServerOptions } from '@ws/core';
