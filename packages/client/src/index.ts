export { connect, type ConnectOptions } from './connect.js';
export { ClientConnection, type ClientConnectionOptions } from './client-connection.js';
export {
  ReconnectingConnection,
  type ReconnectingConnectionEvents,
  type ReconnectingConnectionOptions,
} from './reconnecting-connection.js';
export {
  shouldReconnectByDefault,
  type Disconnect,
  type ReconnectOptions,
  type SendQueueOptions,
} from './reconnect-policy.js';
export { WebSocket, type BinaryType, type WebSocketEventMap, type WebSocketOptions } from './web-socket.js';
export { CloseEvent, type CloseEventInit } from './close-event.js';
export { ErrorEvent, type ErrorEventInit } from './error-event.js';
export { MessageEvent, type MessageEventInit, type MessageEventSource } from './message-event.js';
export {
  WebSocketStream,
  type WebSocketCloseInfo,
  type WebSocketClosedInfo,
  type WebSocketOpenInfo,
  type WebSocketStreamOptions,
  type WebSocketStreamWritable,
} from './web-socket-stream.js';
export { WebSocketError } from './web-socket-error.js';
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
export {
  BackpressurePolicy,
  ConnectionCloseReason,
  ConnectionError,
  ConnectionErrorCode,
  PingTimeoutError,
  SendStatus,
  type CloseInfo,
  type ConnectionEvents,
  type ConnectionOptions,
  type HeartbeatOptions,
  type Message,
  type PingOptions,
  type ReceivedMessage,
  type SendData,
  type SendOptions,
} from '@ws/core/node';
