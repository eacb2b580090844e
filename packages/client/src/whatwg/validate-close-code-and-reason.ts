import { Buffer } from 'node:buffer';
import { CloseCode } from '@ws/core';

/** RFC 6455 §5.5: a control frame carries at most 125 bytes; the close code takes 2 of them. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * "Validate close code and reason" (https://websockets.spec.whatwg.org/#validate-close-code-and-reason),
 * shared by `WebSocket.close()`, `WebSocketStream.close()` and `WebSocketError`.
 */
export function validateCloseCodeAndReason(code: number | undefined, reason: string): void {
  // "If code is not null, but is neither an integer equal to 1000 nor an integer in the range
  // 3000 to 4999, inclusive, throw an "InvalidAccessError" DOMException."
  if (code !== undefined && code !== CloseCode.Normal && (code < 3000 || code > 4999)) {
    throw new DOMException(`The close code must be 1000 or in 3000-4999, got ${code}`, 'InvalidAccessError');
  }
  // "If reasonBytes is longer than 123 bytes, then throw a "SyntaxError" DOMException."
  if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
    throw new DOMException(`The close reason must be at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`, 'SyntaxError');
  }
}
