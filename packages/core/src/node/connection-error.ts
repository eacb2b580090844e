import { CloseCode } from '@ws/core';

/**
 * Failures the connection engine itself decides on (as opposed to a peer breaking RFC 6455,
 * which core reports as a `ProtocolError`, or a refused handshake, a `HandshakeError`), each
 * with the close code the connection ends with. 1006 means the transport was destroyed without
 * a closing handshake, as RFC 6455 §7.1.5 reports a connection that ended without a close frame.
 */
export const ConnectionErrorCode = {
  /** The peer did not answer a heartbeat ping within the heartbeat's `timeout`; the transport was destroyed. */
  WS_ERR_HEARTBEAT_TIMEOUT: CloseCode.Abnormal,
  /** A send found `bufferedAmount` past `maxBufferedAmount` under the `close` policy; closed with 1008. */
  WS_ERR_BACKPRESSURE_LIMIT: CloseCode.PolicyViolation,
  /** A server shutdown gave up waiting for the closing handshake; the transport was destroyed. */
  WS_ERR_SHUTDOWN_TIMEOUT: CloseCode.Abnormal,
  /** A message source given to `sendStream` failed mid-message; closed with 1011. */
  WS_ERR_STREAM_SOURCE_FAILED: CloseCode.InternalError,
} as const;

export type ConnectionErrorCode = keyof typeof ConnectionErrorCode;

/** The close reason each failure reports, for `close` listeners to match on. */
export const ConnectionCloseReason = {
  HeartbeatTimeout: 'heartbeat timeout',
  BackpressureLimit: 'send buffer limit exceeded',
  ShutdownTimeout: 'server shutdown timeout',
  StreamSourceFailed: 'message source failed',
} as const;

export type ConnectionCloseReason = (typeof ConnectionCloseReason)[keyof typeof ConnectionCloseReason];

const reasonByCode: Readonly<Record<ConnectionErrorCode, ConnectionCloseReason>> = {
  WS_ERR_HEARTBEAT_TIMEOUT: ConnectionCloseReason.HeartbeatTimeout,
  WS_ERR_BACKPRESSURE_LIMIT: ConnectionCloseReason.BackpressureLimit,
  WS_ERR_SHUTDOWN_TIMEOUT: ConnectionCloseReason.ShutdownTimeout,
  WS_ERR_STREAM_SOURCE_FAILED: ConnectionCloseReason.StreamSourceFailed,
};

/** A connection ended (or is ending) for a reason the engine decided; emitted as the connection's `'error'`. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  readonly code: ConnectionErrorCode;
  /** The close code the connection ends with (1006 when the transport was destroyed). */
  readonly closeCode: number;
  /** The close reason the `close` event reports. */
  readonly reason: ConnectionCloseReason;

  constructor(code: ConnectionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.closeCode = ConnectionErrorCode[code];
    this.reason = reasonByCode[code];
  }
}

/** No pong answered a `ping()` within the time allowed. */
export class PingTimeoutError extends Error {
  override readonly name = 'PingTimeoutError';
  /** The time waited, in ms. */
  readonly timeout: number;

  constructor(timeout: number) {
    super(`No pong within ${timeout} ms`);
    this.timeout = timeout;
  }
}
