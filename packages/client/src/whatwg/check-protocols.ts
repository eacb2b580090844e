/** RFC 6455 §4.1 via RFC 2616 §2.2: a subprotocol is a `token`. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The constructors' check of the subprotocols offered: "If any of the values in protocols occur
 * more than once or otherwise fail to match the requirements for elements that comprise the
 * value of `Sec-WebSocket-Protocol` fields as defined by The WebSocket protocol, then throw a
 * "SyntaxError" DOMException." Duplicates are compared case-insensitively, as browsers and
 * undici do.
 */
export function checkProtocols(protocols: readonly string[]): void {
  const unique = new Set(protocols.map((protocol) => protocol.toLowerCase()));
  if (unique.size !== protocols.length || !protocols.every((protocol) => TOKEN.test(protocol))) {
    throw new DOMException(`Invalid Sec-WebSocket-Protocol value: ${protocols.join(', ')}`, 'SyntaxError');
  }
}
