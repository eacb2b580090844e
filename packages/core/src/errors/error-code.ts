import { CloseCode } from './close-code.js';

/**
 * Every way a peer can break the protocol, as a stable string code and the close code that
 * is sent when it happens. One table, so that one function maps errors to close codes.
 */
export const ProtocolErrorCode = {
  WS_ERR_UNMASKED_FRAME: CloseCode.ProtocolError,
  WS_ERR_UNEXPECTED_MASK: CloseCode.ProtocolError,
  WS_ERR_UNEXPECTED_RSV: CloseCode.ProtocolError,
  WS_ERR_INVALID_OPCODE: CloseCode.ProtocolError,
  WS_ERR_CONTROL_FRAME_TOO_LONG: CloseCode.ProtocolError,
  WS_ERR_FRAGMENTED_CONTROL_FRAME: CloseCode.ProtocolError,
  WS_ERR_UNEXPECTED_CONTINUATION: CloseCode.ProtocolError,
  WS_ERR_EXPECTED_CONTINUATION: CloseCode.ProtocolError,
  WS_ERR_INVALID_LENGTH: CloseCode.ProtocolError,
  WS_ERR_INVALID_CLOSE_PAYLOAD: CloseCode.ProtocolError,
  WS_ERR_INVALID_CLOSE_CODE: CloseCode.ProtocolError,
  WS_ERR_DATA_AFTER_CLOSE: CloseCode.ProtocolError,
  WS_ERR_INVALID_UTF8: CloseCode.InvalidPayload,
  WS_ERR_INVALID_CLOSE_REASON: CloseCode.InvalidPayload,
  WS_ERR_INVALID_COMPRESSED_DATA: CloseCode.InvalidPayload,
  WS_ERR_FRAME_TOO_BIG: CloseCode.TooBig,
  WS_ERR_MESSAGE_TOO_BIG: CloseCode.TooBig,
  WS_ERR_PING_FLOOD: CloseCode.PolicyViolation,
  WS_ERR_EXTENSION_FAILED: CloseCode.InternalError,
  WS_ERR_UNEXPECTED_EOF: CloseCode.Abnormal,
} as const;

export type ProtocolErrorCode = keyof typeof ProtocolErrorCode;

/** Handshake failures, each with the HTTP status a server answers with. */
export const HandshakeErrorCode = {
  WS_ERR_HANDSHAKE_METHOD: 405,
  WS_ERR_HANDSHAKE_HTTP_VERSION: 400,
  WS_ERR_HANDSHAKE_UPGRADE: 400,
  WS_ERR_HANDSHAKE_CONNECTION: 400,
  WS_ERR_HANDSHAKE_KEY: 400,
  WS_ERR_HANDSHAKE_VERSION: 426,
  WS_ERR_HANDSHAKE_HEADER: 400,
  WS_ERR_HANDSHAKE_ORIGIN: 403,
  WS_ERR_HANDSHAKE_PATH: 404,
  WS_ERR_HANDSHAKE_REJECTED: 401,
  WS_ERR_HANDSHAKE_TIMEOUT: 408,
  WS_ERR_HANDSHAKE_STATUS: 0,
  WS_ERR_HANDSHAKE_ACCEPT: 0,
  WS_ERR_HANDSHAKE_PROTOCOL: 0,
  WS_ERR_HANDSHAKE_EXTENSION: 0,
  WS_ERR_HANDSHAKE_ABORTED: 0,
  WS_ERR_HANDSHAKE_REDIRECT: 0,
  WS_ERR_HANDSHAKE_NETWORK: 0,
  WS_ERR_HANDSHAKE_HOST: 400,
} as const;

export type HandshakeErrorCode = keyof typeof HandshakeErrorCode;
