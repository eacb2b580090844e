import { Buffer } from 'node:buffer';
import { CloseCode, isValidCloseCode } from '../errors/close-code.js';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { ProtocolError } from '../errors/protocol-error.js';
import { isValidUtf8 } from '../utf8/utf8-validator.js';

/** RFC 6455 §5.5: a control frame carries at most 125 bytes; two of them are the status code. */
const MAX_REASON_BYTES = 123;
const EMPTY = Buffer.alloc(0);

/** Reads a close frame's body: a status code and a UTF-8 reason, or nothing at all. */
export function parseClosePayload(payload: Uint8Array): { code: number; reason: string } | ProtocolError {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: '' };
  // RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte
  // unsigned integer (in network byte order) representing a status code".
  if (payload.length === 1) return new ProtocolError('WS_ERR_INVALID_CLOSE_PAYLOAD', 'Close frame body of one byte');
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) return new ProtocolError('WS_ERR_INVALID_CLOSE_CODE', `Invalid close code ${code}`);
  const reason = payload.subarray(2);
  // RFC 6455 §5.5.1: "the body ... MAY contain UTF-8-encoded data", and §8.1 fails invalid UTF-8.
  if (!isValidUtf8(reason)) return new ProtocolError('WS_ERR_INVALID_CLOSE_REASON', 'Close reason is not valid UTF-8');
  return { code, reason: Buffer.from(reason.buffer, reason.byteOffset, reason.length).toString('utf8') };
}

/**
 * Builds a close frame's body. Without a code the body is empty (the peer sees 1005). Throws
 * InvalidStateError for a code that may not be sent or a reason over 123 UTF-8 bytes.
 */
export function encodeClosePayload(code?: number, reason = ''): Uint8Array {
  if (code === undefined) {
    if (reason !== '') throw new InvalidStateError('A close reason needs a close code', 'code');
    return EMPTY;
  }
  if (!isValidCloseCode(code)) throw new InvalidStateError(`Close code ${code} may not be sent`, 'code');
  const reasonLength = Buffer.byteLength(reason, 'utf8');
  if (reasonLength > MAX_REASON_BYTES) {
    throw new InvalidStateError(`Close reason of ${reasonLength} bytes exceeds ${MAX_REASON_BYTES}`, 'reason');
  }
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}
