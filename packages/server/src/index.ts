export {
  WebSocketServer,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_FRAGMENT_SIZE,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_TIMEOUT,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  type BroadcastOptions,
  type CloseServerOptions,
  type WebSocketServerEvents,
  type WebSocketServerOptions,
} from './web-socket-server.js';
export {
  ServerConnection,
  DEFAULT_RECEIVE_HIGH_WATER_MARK,
  type ServerConnectionOptions,
} from './server-connection.js';
export type { ReceivedMessage } from './message-inbox.js';
export { ServerError, ServerErrorCode, ServerCloseReason } from './server-error.js';
export { Heartbeat, type HeartbeatOptions, type HeartbeatPeer } from './heartbeat.js';
export {
  encodeMessage,
  encodeCompressedMessage,
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
export { BackpressurePolicy, SendStatus, type SendData, type SendOptions } from '@ws/core/node';
export { ReceiveMode, type PerMessageDeflateServerOptions } from '@ws/core';
