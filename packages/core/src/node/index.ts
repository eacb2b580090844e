export { Connection } from './connection.js';
export type { CloseInfo, ConnectionEvents, ConnectionSetup, PingOptions } from './connection-types.js';
export type { SendOptions } from './send-path.js';
export {
  CLIENT_DEFAULTS,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_FRAGMENT_SIZE,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  DEFAULT_OUTPUT_HIGH_WATER_MARK,
  DEFAULT_RECEIVE_HIGH_WATER_MARK,
  SERVER_DEFAULTS,
  resolveConnectionOptions,
  type ConnectionOptions,
  type ResolvedConnectionOptions,
} from './connection-options.js';
export {
  ConnectionCloseReason,
  ConnectionError,
  ConnectionErrorCode,
  PingTimeoutError,
} from './connection-error.js';
export { Heartbeat, type HeartbeatOptions } from './heartbeat.js';
export type { Message, MessageIterator, ReceivedMessage } from './received-message.js';
export { BackpressurePolicy, SendStatus } from './send-status.js';
export { type SendData, toBuffer } from './send-data.js';
export { MessageInbox, type InboxEntry } from './message-inbox.js';
export { oneOfOption, positiveOption } from './option-checks.js';
export { reportHttp2StreamFailure } from './http2-stream-failure.js';
export { abortTransport } from './abort-transport.js';
