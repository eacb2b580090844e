import { CloseCode } from '@ws/core';

/**
 * Failures the server itself decides on (as opposed to a peer breaking RFC 6455, which core
 * reports as a `ProtocolError`, or a refused handshake, a `HandshakeError`), each with the close
 * code the connection ends with. 1006 means the transport was destroyed without a closing
 * handshake, as RFC 6455 §7.1.5 reports a connection that ended without a close frame.
 */
export const ServerErrorCode = {
  /** The peer did not answer a heartbeat ping within `heartbeatTimeout`; the socket was destroyed. */
  WS_ERR_HEARTBEAT_TIMEOUT: CloseCode.Abnormal,
  /** `bufferedAmount` passed `maxBufferedAmount` under the `close` policy; closed with 1008. */
  WS_ERR_BACKPRESSURE_LIMIT: CloseCode.PolicyViolation,
  /** `server.close()` gave up waiting for the closing handshake; the socket was destroyed. */
  WS_ERR_SHUTDOWN_TIMEOUT: CloseCode.Abnormal,
  /** A message source given to `sendStream` failed mid-message; closed with 1011. */
  WS_ERR_STREAM_SOURCE_FAILED: CloseCode.InternalError,
} as const;

export type ServerErrorCode = keyof typeof ServerErrorCode;

/** The close reason each server-side failure reports, for `close` listeners to match on. */
export const ServerCloseReason = {
  HeartbeatTimeout: 'heartbeat timeout',
  BackpressureLimit: 'send buffer limit exceeded',
  ShutdownTimeout: 'server shutdown timeout',
  StreamSourceFailed: 'message source failed',
} as const;

export type ServerCloseReason = (typeof ServerCloseReason)[keyof typeof ServerCloseReason];

const reasonByCode: Readonly<Record<ServerErrorCode, ServerCloseReason>> = {
  WS_ERR_HEARTBEAT_TIMEOUT: ServerCloseReason.HeartbeatTimeout,
  WS_ERR_BACKPRESSURE_LIMIT: ServerCloseReason.BackpressureLimit,
  WS_ERR_SHUTDOWN_TIMEOUT: ServerCloseReason.ShutdownTimeout,
  WS_ERR_STREAM_SOURCE_FAILED: ServerCloseReason.StreamSourceFailed,
};

/** A connection ended (or is ending) for a reason the server decided; emitted as the connection's `'error'`. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  readonly code: ServerErrorCode;
  /** The close code the connection ends with (1006 when the socket was destroyed). */
  readonly closeCode: number;
  /** The close reason the `close` event reports. */
  readonly reason: ServerCloseReason;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.closeCode = ServerErrorCode[code];
    this.reason = reasonByCode[code];
  }
}
