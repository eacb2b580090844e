export { connect, type ConnectOptions } from './connect.js';
export {
  ClientConnection,
  type ClientConnectionEvents,
  type ClientConnectionOptions,
  type CloseInfo,
  type PingOptions,
} from './client-connection.js';
export type { Message } from './message-iterator.js';
export {
  ReconnectingConnection,
  shouldReconnectByDefault,
  type Disconnect,
  type ReconnectOptions,
  type ReconnectingConnectionEvents,
  type ReconnectingConnectionOptions,
  type SendQueueOptions,
} from './reconnecting-connection.js';
export { WebSocket, type BinaryType, type WebSocketOptions } from './web-socket.js';
export { CloseEvent, type CloseEventInit } from './close-event.js';
export { ErrorEvent, type ErrorEventInit } from './error-event.js';
export { Heartbeat, type HeartbeatOptions, type HeartbeatTarget } from './heartbeat.js';
export { PingTimeoutError } from './ping-timeout-error.js';
export type { HandshakeOptions, RequestHeaders } from './connect/client-handshake.js';
export type { CreateConnectionOptions, ProxyOptions, TlsOptions, TransportOptions } from './connect/open-transport.js';
export type { ProxyEnvironment } from './connect/proxy-for-url.js';
export {
  CloseCode,
  ConnectionClosedError,
  ConnectionState,
  HandshakeError,
  InvalidStateError,
  ProtocolError,
  type PerMessageDeflateClientOptions,
} from '@ws/core';
export { BackpressurePolicy, SendStatus, type SendData, type SendOptions } from '@ws/core/node';
