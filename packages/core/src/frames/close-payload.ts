import { Buffer } from 'node:buffer';
import { CloseCode, isValidCloseCode } from '../errors/close-code.js';
import { ProtocolError } from '../errors/protocol-error.js';
import { isValidUtf8 } from '../utf8/utf8-validator.js';

/**
 * RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less", and
 * two of them carry the status code.
 */
const MAX_REASON_LENGTH = 123;

const EMPTY = new Uint8Array(0);

/**
 * Reads the body of a received close frame. An empty body means the peer gave no status code:
 * RFC 6455 §7.1.5 "If this Close control frame contains no status code, _The WebSocket
 * Connection Close Code_ is considered to be 1005", reported as `CloseCode.NoStatusReceived`.
 * A body the peer may not send is returned (never thrown) as a ProtocolError.
 */
export function parseClosePayload(payload: Uint8Array): { code: number; reason: string } | ProtocolError {
  const length = payload.length;
  if (length === 0) return { code: CloseCode.NoStatusReceived, reason: '' };

  // RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte
  // unsigned integer (in network byte order) representing a status code".
  if (length === 1) {
    return new ProtocolError('WS_ERR_INVALID_CLOSE_PAYLOAD', 'The close frame body has 1 byte; a status code takes 2');
  }

  // RFC 6455 §7.4.1: 1004 is "Reserved", and 1005, 1006 and 1015 "MUST NOT be set as a status
  // code in a Close control frame by an endpoint"; §7.4.2 leaves codes below 1000 unused and
  // 1016-2999 to future registrations, and no code above 4999 exists. Autobahn 7.9.x expects 1002
  // for all of them.
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) {
    return new ProtocolError('WS_ERR_INVALID_CLOSE_CODE', `Close code ${code} may not appear in a close frame`);
  }

  // RFC 6455 §5.5.1: "Following the 2-byte integer, the body MAY contain UTF-8-encoded data",
  // and §8.1: an endpoint that finds a byte stream is not valid UTF-8 "MUST _Fail the WebSocket Connection_".
  const reason = payload.subarray(2);
  if (!isValidUtf8(reason)) {
    return new ProtocolError('WS_ERR_INVALID_CLOSE_REASON', 'The close reason is not valid UTF-8');
  }
  // Buffer#toString keeps a leading U+FEFF (TextDecoder would drop it) and is the fastest decoder.
  return { code, reason: Buffer.from(reason.buffer, reason.byteOffset, reason.length).toString('utf8') };
}

/**
 * Builds the body of a close frame to send. Without a code the body is empty (the peer then
 * reports 1005). Throws TypeError for a reason without a code, RangeError for a
 * code an endpoint may not send (see `isValidCloseCode`), or a reason longer than 123 UTF-8 bytes.
 * A reason's lone surrogates are sent as U+FFFD, as the WHATWG WebSocket `close()` does.
 */
export function encodeClosePayload(code?: number, reason = ''): Uint8Array {
  if (typeof reason !== 'string') {
    throw new TypeError('The close reason must be a string');
  }
  if (code === undefined) {
    // RFC 6455 §5.5.1: a body starts with the status code, so a reason cannot go alone.
    if (reason !== '') throw new TypeError('A close reason needs a close code');
    return EMPTY;
  }
  if (!isValidCloseCode(code)) {
    throw new RangeError(`Close code ${String(code)} may not be sent in a close frame`);
  }
  const reasonLength = Buffer.byteLength(reason, 'utf8');
  if (reasonLength > MAX_REASON_LENGTH) {
    throw new RangeError(`The close reason takes ${reasonLength} UTF-8 bytes; at most ${MAX_REASON_LENGTH} fit in a control frame`);
  }
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  if (reasonLength > 0) payload.write(reason, 2, reasonLength, 'utf8');
  return payload;
}
