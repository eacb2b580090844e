import { createHash } from 'node:crypto';

/**
 * RFC 6455 §1.3: the server concatenates the key "with the Globally Unique Identifier (GUID,
 * [RFC4122]) ... in string form", this one. No other file writes it.
 */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * The Sec-WebSocket-Accept value for a Sec-WebSocket-Key. RFC 6455 §4.2.2: "concatenating /key/
 * ... with the string [the GUID], taking the SHA-1 hash of this concatenated value to obtain a
 * 20-byte value and base64-encoding ... this 20-byte hash". The key is used as the string
 * received, "not base64-decoded" (§4.1).
 */
export function computeAcceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

const BASE64_KEY_LENGTH = 24;

function isBase64Char(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2b || // +
    code === 0x2f // /
  );
}

/**
 * Whether `key` is a valid Sec-WebSocket-Key. RFC 6455 §4.1: "a nonce consisting of a randomly
 * selected 16-byte value that has been base64-encoded (see Section 4 of [RFC4648])". 16 bytes
 * encode to exactly 22 base64 characters and "==" padding; the padding is required, as RFC 4648
 * §3.2 requires it unless a specification says otherwise.
 */
export function isValidKey(key: string): boolean {
  if (key.length !== BASE64_KEY_LENGTH) return false;
  if (key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false;
  for (let index = 0; index < 22; index++) {
    if (!isBase64Char(key.charCodeAt(index))) return false;
  }
  return true;
}
