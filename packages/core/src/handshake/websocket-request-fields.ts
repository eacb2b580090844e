import { HandshakeError } from '../errors/handshake-error.js';
import { type ExtensionOffer, parseExtensionOffers, parseTokenList } from './header-tokens.js';
import { combinedHeaderValue, headerValues, type IncomingHeaders } from './incoming-headers.js';

/** The fields of an opening handshake request that mean the same over HTTP/1.1 and HTTP/2. */
export interface WebSocketRequestFields {
  /** The offered subprotocols in the client's order of preference (empty when none). */
  protocols: string[];
  /** The offered extensions in the client's order of preference (empty when none). */
  extensions: ExtensionOffer[];
  /** The Origin header field, when sent (browsers always send it). */
  origin?: string;
}

/**
 * Parses a list-valued header with `parse`, reporting a malformed value under `code` (the
 * check that needed the value), with the parser's error as the cause.
 */
export function parseListHeader<T>(
  headers: IncomingHeaders,
  name: string,
  parse: (value: string, fieldName: string) => T[],
  fieldName: string,
  code: HandshakeError['code'],
): T[] {
  const value = combinedHeaderValue(headers, name);
  if (value === undefined) return [];
  try {
    return parse(value, fieldName);
  } catch (error) {
    if (!(error instanceof HandshakeError) || error.code === code) throw error;
    throw new HandshakeError(code, error.message, { cause: error });
  }
}

function parseMarkingRepeatedParams(value: string, fieldName: string): ExtensionOffer[] {
  return parseExtensionOffers(value, fieldName, { markRepeatedParams: true });
}

/**
 * Reads Sec-WebSocket-Protocol, Sec-WebSocket-Extensions and Origin, which RFC 8441 §5 keeps
 * for HTTP/2: "The Origin [RFC6454], Sec-WebSocket-Version, Sec-WebSocket-Protocol, and
 * Sec-WebSocket-Extensions header fields are used in the CONNECT request and response header
 * fields as defined in [RFC6455]." Throws a `HandshakeError` (400) for a malformed one.
 */
export function readWebSocketRequestFields(headers: IncomingHeaders): WebSocketRequestFields {
  // RFC 6455 §4.1: subprotocol values "MUST be non-empty strings with characters in the range
  // U+0021 to U+007E not including separator characters as defined in [RFC2616] and MUST all be
  // unique strings." §11.3.4: the field "MAY appear multiple times in an HTTP request (which is
  // logically the same as a single |Sec-WebSocket-Protocol| header field that contains all
  // values)".
  const protocols = parseListHeader(
    headers,
    'sec-websocket-protocol',
    parseTokenList,
    'Sec-WebSocket-Protocol',
    'WS_ERR_HANDSHAKE_HEADER',
  );
  if (new Set(protocols).size !== protocols.length) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_HEADER', 'The Sec-WebSocket-Protocol header offers a subprotocol twice');
  }

  // RFC 6455 §11.3.2: Sec-WebSocket-Extensions "MAY appear multiple times in an HTTP request
  // (which is logically the same as a single |Sec-WebSocket-Extensions| header field that
  // contains all values." A parameter repeated in one offer is recorded, not refused: RFC 7692
  // §7 has the server decline that offer ("A server MUST decline an extension negotiation offer
  // for this extension if ... The negotiation offer contains multiple extension parameters with
  // the same name"), and the connection then proceeds without it.
  const extensions = parseListHeader(
    headers,
    'sec-websocket-extensions',
    parseMarkingRepeatedParams,
    'Sec-WebSocket-Extensions',
    'WS_ERR_HANDSHAKE_HEADER',
  );

  // RFC 6454 §7.3: "The user agent MUST NOT include more than one Origin header field in any
  // HTTP request." Node joins repeated Origin fields with ", ", which no serialized origin contains.
  const origins = headerValues(headers, 'origin');
  const origin = origins[0];
  if (origins.length > 1 || origin?.includes(', ')) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_HEADER', 'The Origin header must appear at most once');
  }

  const fields: WebSocketRequestFields = { protocols, extensions };
  if (origin !== undefined) fields.origin = origin;
  return fields;
}
