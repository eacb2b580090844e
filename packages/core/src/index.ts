export { CloseCode, isValidCloseCode } from './errors/close-code.js';
export { HandshakeErrorCode, ProtocolErrorCode } from './errors/error-code.js';
export { ProtocolError, closeCodeForError } from './errors/protocol-error.js';
export { HandshakeError } from './errors/handshake-error.js';
export { InvalidStateError } from './errors/invalid-state-error.js';
export { ConnectionClosedError } from './errors/connection-closed-error.js';

export { Opcode, isControlOpcode, isKnownOpcode } from './frames/opcode.js';
export { parseClosePayload, encodeClosePayload } from './frames/close-payload.js';
export { isValidUtf8 } from './utf8/utf8-validator.js';

export type { Extension } from './extensions/extension.js';

export { ConnectionState, Side } from './protocol/connection-state.js';
export { Protocol } from './protocol/protocol.js';
export { FRAME_WORK, ReceiveMode, type ProtocolOptions, type SendOptions } from './protocol/protocol-options.js';
export { ServerProtocol } from './protocol/server-protocol.js';
export { ClientProtocol, type ClientProtocolOptions } from './protocol/client-protocol.js';
export { SEND_EOF, type OutgoingData } from './protocol/frame-writer.js';
export {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_PENDING_PONGS,
  FRAGMENT_OVERHEAD,
  type ProtocolLimits,
} from './protocol/limits.js';
export type {
  CloseReceived,
  MessagePieceReceived,
  MessageReceived,
  PingReceived,
  PongReceived,
  ProtocolEvent,
  ProtocolFailed,
} from './protocol/protocol-event.js';

export { computeAcceptKey, isValidKey } from './handshake/accept-key.js';
export {
  isToken,
  parseTokenList,
  parseUpgradeList,
  parseExtensionOffers,
  formatExtensionOffers,
  type ExtensionOffer,
} from './handshake/header-tokens.js';
export type { IncomingHeaders } from './handshake/incoming-headers.js';
export type { OutgoingHeaders } from './handshake/outgoing-headers.js';
export {
  validateUpgradeRequest,
  selectSubprotocol,
  buildAcceptResponse,
  buildRejectResponse,
  type UpgradeRequest,
  type ValidatedUpgradeRequest,
  type AcceptResponseOptions,
  type RejectResponseOptions,
} from './handshake/server-handshake.js';
export {
  generateKey,
  buildUpgradeRequest,
  validateUpgradeResponse,
  type UpgradeRequestOptions,
  type UpgradeResponse,
  type OfferedHandshake,
  type AcceptedHandshake,
} from './handshake/client-handshake.js';
export {
  isWebSocketConnect,
  validateExtendedConnectRequest,
  buildExtendedConnectResponse,
  HTTP2_CONNECTION_SPECIFIC_FIELDS,
  WEBSOCKET_PROTOCOL,
  type ExtendedConnectRequest,
  type ExtendedConnectResponseOptions,
  type Http2ResponseHeaders,
} from './handshake/extended-connect-server.js';
export {
  buildExtendedConnectRequest,
  validateExtendedConnectResponse,
  type ExtendedConnectRequestOptions,
  type ExtendedConnectResponse,
} from './handshake/extended-connect-client.js';
export type { WebSocketRequestFields } from './handshake/websocket-request-fields.js';

export {
  PerMessageDeflate,
  compressMessage,
  DEFAULT_DEFLATE_THRESHOLD,
  DEFAULT_DEFLATE_LEVEL,
  DEFAULT_DEFLATE_MEM_LEVEL,
  MIN_DEFLATE_WINDOW_BITS,
  MAX_DEFLATE_WINDOW_BITS,
  type DeflateSettings,
  type PerMessageDeflateParameters,
} from './extensions/permessage-deflate.js';
export {
  PERMESSAGE_DEFLATE,
  acceptPerMessageDeflate,
  offerPerMessageDeflate,
  acceptPerMessageDeflateResponse,
  type PerMessageDeflateOptions,
  type PerMessageDeflateServerOptions,
  type PerMessageDeflateClientOptions,
  type PerMessageDeflateAcceptance,
} from './extensions/permessage-deflate-negotiation.js';
export type { ExtensionOffersParseOptions } from './handshake/header-tokens.js';
