import { HandshakeError } from '../errors/handshake-error.js';
import { isToken } from './header-tokens.js';
import { headerValues, type IncomingHeaders } from './incoming-headers.js';
import { assertHeaderValue, extensionsHeaderLine, type OutgoingHeaders } from './outgoing-headers.js';
import { WEBSOCKET_VERSION } from './server-handshake.js';
import { readWebSocketRequestFields, type WebSocketRequestFields } from './websocket-request-fields.js';

/** An HTTP/2 request as Node's `'stream'` event hands it over: the header block, pseudo-header fields included. */
export interface ExtendedConnectRequest {
  headers: IncomingHeaders;
}

/** The `:protocol` value that asks for a WebSocket. RFC 8441 §5: "it MUST have a value of "websocket"". */
export const WEBSOCKET_PROTOCOL = 'websocket';

/**
 * Whether an HTTP/2 header block is an extended CONNECT (RFC 8441 §4) asking for a WebSocket.
 * The upgrade token compares case-insensitively, as Upgrade does in HTTP/1.1.
 */
export function isWebSocketConnect(headers: IncomingHeaders): boolean {
  const protocol = headers[':protocol'];
  return headers[':method'] === 'CONNECT' && typeof protocol === 'string' && protocol.toLowerCase() === WEBSOCKET_PROTOCOL;
}

/**
 * Connection-specific fields, which HTTP/2 forbids. RFC 7540 §8.1.2.2: "An endpoint MUST NOT
 * generate an HTTP/2 message containing connection-specific header fields".
 */
export const HTTP2_CONNECTION_SPECIFIC_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
]);

/**
 * Checks an extended CONNECT that bootstraps a WebSocket over an HTTP/2 stream (RFC 8441 §4,
 * §5) and returns what it asks for. Throws a `HandshakeError` whose `status` (and `headers`)
 * the server answers with. There is no key: RFC 8441 §5: "Implementations using this extended
 * CONNECT to bootstrap WebSockets do not do the processing of the Sec-WebSocket-Key and
 * Sec-WebSocket-Accept header fields of [RFC6455] as that functionality has been superseded
 * by the :protocol pseudo-header field."
 */
export function validateExtendedConnectRequest(request: ExtendedConnectRequest): WebSocketRequestFields {
  const { headers } = request;
  if (!isWebSocketConnect(headers)) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_METHOD', 'Not an extended CONNECT with :protocol websocket', {
      headers: { allow: 'CONNECT' },
    });
  }
  // RFC 8441 §4: "On requests that contain the :protocol pseudo-header field, the :scheme and
  // :path pseudo-header fields of the target URI (see Section 5) MUST also be included." The
  // :authority carries what Host did (§5: "The Host information is conveyed as part of the
  // :authority pseudo-header field, which is required on every HTTP/2 transaction").
  for (const name of [':scheme', ':path', ':authority']) {
    const value = headers[name];
    if (typeof value !== 'string' || value === '') {
      throw new HandshakeError('WS_ERR_HANDSHAKE_HEADER', `The ${name} pseudo-header field is missing`);
    }
  }
  // RFC 8441 §5: "[RFC6455] requires the use of Connection and Upgrade header fields that are
  // not part of HTTP/2. They MUST NOT be included in the CONNECT request defined here." (Node's
  // HTTP/2 layer already refuses such a request as malformed; this holds for any other source.)
  for (const name of ['connection', 'upgrade']) {
    if (headers[name] !== undefined) {
      throw new HandshakeError('WS_ERR_HANDSHAKE_HEADER', `An extended CONNECT must not carry a ${name} header field`);
    }
  }
  // RFC 8441 §5 keeps Sec-WebSocket-Version "as defined in [RFC6455]": "If this version does not
  // match a version understood by the server, the server MUST abort the WebSocket handshake ...
  // and instead send an appropriate HTTP error code". Not 426: RFC 7231 §6.5.15 requires an
  // Upgrade header field in a 426, which HTTP/2 forbids; 400 with the version we speak.
  const versions = headerValues(headers, 'sec-websocket-version');
  if (versions.length !== 1 || versions[0]?.trim() !== WEBSOCKET_VERSION) {
    throw new HandshakeError(
      'WS_ERR_HANDSHAKE_VERSION',
      versions.length === 0
        ? 'The sec-websocket-version header is missing; this server speaks version 13'
        : 'Unsupported sec-websocket-version; this server speaks version 13',
      { status: 400, headers: { 'sec-websocket-version': WEBSOCKET_VERSION } },
    );
  }
  return readWebSocketRequestFields(headers);
}

export interface ExtendedConnectResponseOptions {
  /** The selected subprotocol; undefined or '' for none. */
  protocol?: string | undefined;
  /** The accepted extensions as a Sec-WebSocket-Extensions value; undefined or '' for none. */
  extensions?: string | undefined;
  /** Extra header fields, e.g. Set-Cookie. */
  headers?: OutgoingHeaders | undefined;
}

/** Fields the response writes itself, and those HTTP/2 forbids. */
const RESPONSE_RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...HTTP2_CONNECTION_SPECIFIC_FIELDS,
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
]);

/** An HTTP/2 response header block as Node's `stream.respond` takes it. */
export type Http2ResponseHeaders = Record<string, string | string[] | number>;

/**
 * The header block accepting an extended CONNECT. RFC 8441 §5: "If the server agrees to the
 * WebSocket connection, it MUST respond with a 200 (OK) status code" (a 2xx to a CONNECT opens
 * the tunnel). Field names are lower-case, as HTTP/2 requires (RFC 7540 §8.1.2: "header field
 * names MUST be converted to lowercase prior to their encoding in HTTP/2"). Throws `TypeError`
 * for a protocol that is not a token, an extensions value that does not parse, or an extra
 * header whose name is not a token, whose value is unsafe, that repeats a field written here
 * or that HTTP/2 forbids.
 */
export function buildExtendedConnectResponse(options: ExtendedConnectResponseOptions): Http2ResponseHeaders {
  const response: Http2ResponseHeaders = { ':status': 200 };
  const { protocol, extensions } = options;
  if (protocol !== undefined && protocol !== '') {
    if (!isToken(protocol)) {
      throw new TypeError(`The "protocol" argument: subprotocol ${JSON.stringify(protocol)} is not a token`);
    }
    response['sec-websocket-protocol'] = protocol;
  }
  if (extensions !== undefined && extensions !== '') {
    extensionsHeaderLine(extensions);
    response['sec-websocket-extensions'] = extensions;
  }
  Object.assign(response, http2HeaderFields(options.headers, RESPONSE_RESERVED_NAMES, 'headers'));
  return response;
}

/**
 * Extra fields as an HTTP/2 header block (lower-case names), after the checks
 * `formatHeaderFields` makes for HTTP/1.1: every name a token, every value safe, none of
 * `reservedNames` (lower-case).
 */
export function http2HeaderFields(
  headers: OutgoingHeaders | undefined,
  reservedNames: ReadonlySet<string>,
  argumentName: string,
): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  if (headers === undefined) return fields;
  for (const name of Object.keys(headers)) {
    if (!isToken(name)) {
      throw new TypeError(`The "${argumentName}" argument: header name ${JSON.stringify(name)} is not a token`);
    }
    const lower = name.toLowerCase();
    if (reservedNames.has(lower)) {
      throw new TypeError(`The "${argumentName}" argument: header ${name} is written by the handshake itself or not allowed in HTTP/2`);
    }
    const value = headers[name];
    const values: readonly string[] = typeof value === 'string' ? [value] : (value ?? []);
    for (const item of values) {
      if (typeof item !== 'string') {
        throw new TypeError(`The "${argumentName}" argument: header ${name} has a value that is not a string`);
      }
      assertHeaderValue(item, `Header ${name}`, argumentName);
    }
    const previous = fields[lower];
    const merged = previous === undefined ? [...values] : [...(typeof previous === 'string' ? [previous] : previous), ...values];
    fields[lower] = merged.length === 1 ? (merged[0] as string) : merged;
  }
  return fields;
}
