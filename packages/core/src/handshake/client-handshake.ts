import { Buffer } from 'node:buffer';
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { HandshakeError } from '../errors/handshake-error.js';
import { computeAcceptKey, isValidKey } from './accept-key.js';
import { type ExtensionOffer, isToken, parseExtensionOffers, parseTokenList, parseUpgradeList } from './header-tokens.js';
import { combinedHeaderValue, flattenHeaders, headerValues, type IncomingHeaders } from './incoming-headers.js';
import { assertHeaderValue, extensionsHeaderLine, formatHeaderFields, type OutgoingHeaders } from './outgoing-headers.js';

const KEY_BYTE_LENGTH = 16;

/**
 * A fresh Sec-WebSocket-Key. RFC 6455 §4.1: "The value of this header field MUST be a nonce
 * consisting of a randomly selected 16-byte value that has been base64-encoded (see Section 4 of
 * [RFC4648]). The nonce MUST be selected randomly for each connection." `randomBytes` is
 * injectable so that tests are reproducible; it defaults to node:crypto's.
 */
export function generateKey(randomBytes: (length: number) => Uint8Array = cryptoRandomBytes): string {
  const nonce = randomBytes(KEY_BYTE_LENGTH);
  if (nonce.byteLength !== KEY_BYTE_LENGTH) {
    throw new RangeError(`randomBytes returned ${nonce.byteLength} bytes instead of 16`);
  }
  return Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString('base64');
}

export interface UpgradeRequestOptions {
  /** The Host value: the server's host, with `:port` unless it is the scheme's default. */
  host: string;
  /** The request target in origin-form (path and query, percent-encoded), starting with "/". */
  path: string;
  /** The Sec-WebSocket-Key, from `generateKey`. */
  key: string;
  /** Subprotocols to offer, in order of preference. */
  protocols?: readonly string[] | undefined;
  /** The Sec-WebSocket-Extensions value to offer (see `formatExtensionOffers`); '' for none. */
  extensions?: string | undefined;
  /** The Origin value, for clients that act for a web origin. */
  origin?: string | undefined;
  /** Extra header fields, e.g. Authorization. */
  headers?: OutgoingHeaders | undefined;
}

/** Fields the request writes itself; extra headers may not repeat them. */
const REQUEST_RESERVED_NAMES: ReadonlySet<string> = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'origin',
  'content-length',
  'transfer-encoding',
]);

/** Whether `path` is an origin-form request target we can write: "/" then visible ASCII, no fragment. */
export function isValidRequestPath(path: string): boolean {
  if (path.charCodeAt(0) !== 0x2f) return false;
  for (let index = 1; index < path.length; index++) {
    const code = path.charCodeAt(index);
    // RFC 6455 §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and
    // MUST NOT be used on these URIs."
    if (code <= 0x20 || code >= 0x7f || code === 0x23) return false;
  }
  return true;
}

export function isVisibleAscii(value: string): boolean {
  if (value.length === 0) return false;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code <= 0x20 || code >= 0x7f) return false;
  }
  return true;
}

/**
 * The opening handshake request head (RFC 6455 §4.1), request line through the blank line;
 * write it as it is. Throws `TypeError` for a path
 * that is not "/" followed by visible ASCII without "#", a host that is empty or holds spaces or
 * controls, an invalid key, subprotocols that are not unique tokens, an extensions value that
 * does not parse, and extra headers that are unsafe (CR, LF: request splitting) or repeat a
 * field written here.
 */
export function buildUpgradeRequest(options: UpgradeRequestOptions): string {
  const { host, path, key, protocols = [], extensions, origin } = options;
  if (!isValidRequestPath(path)) {
    throw new TypeError(`The "path" argument: request path ${JSON.stringify(path)} must start with "/" and hold only visible ASCII, without "#"`);
  }
  if (!isVisibleAscii(host)) {
    throw new TypeError(`The "host" argument: ${JSON.stringify(host)} must be non-empty visible ASCII`);
  }
  if (!isValidKey(key)) {
    throw new TypeError('The "key" argument is not a valid Sec-WebSocket-Key');
  }
  // RFC 6455 §4.1: subprotocol values "MUST be non-empty strings with characters in the range
  // U+0021 to U+007E not including separator characters as defined in [RFC2616] and MUST all be
  // unique strings" (i.e. tokens).
  for (const protocol of protocols) {
    if (!isToken(protocol)) {
      throw new TypeError(`The "protocols" argument: subprotocol ${JSON.stringify(protocol)} is not a token`);
    }
  }
  if (new Set(protocols).size !== protocols.length) {
    throw new TypeError('The "protocols" argument: subprotocols must be unique');
  }
  let head =
    `GET ${path} HTTP/1.1\r\n` +
    `Host: ${host}\r\n` +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${key}\r\n` +
    'Sec-WebSocket-Version: 13\r\n';
  if (protocols.length > 0) head += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  head += extensionsHeaderLine(extensions);
  if (origin !== undefined) {
    assertHeaderValue(origin, 'The origin', 'origin');
    head += `Origin: ${origin}\r\n`;
  }
  return head + formatHeaderFields(options.headers, REQUEST_RESERVED_NAMES, 'headers') + '\r\n';
}

/** The parts of an HTTP response the client checks, as Node's `IncomingMessage` has them. */
export interface UpgradeResponse {
  statusCode: number;
  headers: IncomingHeaders;
}

/** What the client offered, to check the response against. */
export interface OfferedHandshake {
  /** The Sec-WebSocket-Key sent. */
  key: string;
  /** The subprotocols offered (empty when none). */
  protocols: readonly string[];
  /** The names of the extensions offered. */
  offeredExtensions: readonly string[];
}

/** What the server agreed to. */
export interface AcceptedHandshake {
  /** The subprotocol the server selected; undefined when it selected none. */
  protocol: string | undefined;
  /** The extensions the server accepted, with their response parameters, in the order listed. */
  extensions: ExtensionOffer[];
}

/**
 * Checks the server's answer to the opening handshake (RFC 6455 §4.1, "the client MUST
 * validate the server's response as follows") and returns what it agreed to. Throws a
 * `HandshakeError` whose `status` is the status the server answered.
 *
 * A server that selects no subprotocol although some were offered is accepted: RFC 6455 lets
 * the server select "one or none" (§1.3); a client that requires one checks `protocol`.
 */
export function validateUpgradeResponse(response: UpgradeResponse, offered: OfferedHandshake): AcceptedHandshake {
  const { statusCode: status, headers } = response;

  // RFC 6455 §4.1: "If the status code received from the server is not 101, the client handles
  // the response per HTTP [RFC2616] procedures." The headers are kept for that (e.g. Location,
  // WWW-Authenticate).
  if (status !== 101) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_STATUS', `Unexpected server response: ${status}`, {
      status,
      headers: flattenHeaders(headers),
    });
  }

  // RFC 6455 §4.1: "If the response lacks an |Upgrade| header field or the |Upgrade| header field
  // contains a value that is not an ASCII case-insensitive match for the value "websocket", the
  // client MUST _Fail the WebSocket Connection_."
  const upgrades = parseOrFail(headers, 'upgrade', parseUpgradeList, 'Upgrade', 'WS_ERR_HANDSHAKE_UPGRADE', status);
  if (upgrades.length === 0 || upgrades.some((protocol) => protocol.toLowerCase() !== 'websocket')) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_UPGRADE', 'The Upgrade header of the response must be "websocket"', {
      status,
    });
  }

  // RFC 6455 §4.1: "If the response lacks a |Connection| header field or the |Connection| header
  // field doesn't contain a token that is an ASCII case-insensitive match for the value
  // "Upgrade", the client MUST _Fail the WebSocket Connection_."
  const connectionOptions = parseOrFail(
    headers,
    'connection',
    parseTokenList,
    'Connection',
    'WS_ERR_HANDSHAKE_CONNECTION',
    status,
  );
  if (!connectionOptions.some((option) => option.toLowerCase() === 'upgrade')) {
    throw new HandshakeError(
      'WS_ERR_HANDSHAKE_CONNECTION',
      'The Connection header of the response must contain "Upgrade"',
      { status },
    );
  }

  // RFC 6455 §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field or the
  // |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the
  // concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string
  // [the GUID] but ignoring any leading and trailing whitespace, the client MUST _Fail the
  // WebSocket Connection_." §11.3.3: it "MUST NOT appear more than once in an HTTP response."
  const accepts = headerValues(headers, 'sec-websocket-accept');
  if (accepts.length !== 1 || accepts[0]?.trim() !== computeAcceptKey(offered.key)) {
    throw new HandshakeError(
      'WS_ERR_HANDSHAKE_ACCEPT',
      accepts.length === 0
        ? 'The Sec-WebSocket-Accept header of the response is missing'
        : 'The Sec-WebSocket-Accept header of the response does not match the key',
      { status },
    );
  }

  return readAcceptedOffers(headers, offered, status);
}

/**
 * Reads which of the offered extensions and subprotocols the server's response accepted, failing
 * the handshake (a `HandshakeError` carrying `status`) for one that was not offered. RFC 8441 §5
 * keeps these fields for HTTP/2 "as defined in [RFC6455]", so both handshakes share this.
 */
export function readAcceptedOffers(
  headers: IncomingHeaders,
  offered: Pick<OfferedHandshake, 'protocols' | 'offeredExtensions'>,
  status: number,
): AcceptedHandshake {
  // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Extensions| header field and this
  // header field indicates the use of an extension that was not present in the client's
  // handshake (the server has indicated an extension not requested by the client), the client
  // MUST _Fail the WebSocket Connection_." An extension accepted twice is failed as well: it
  // could not tell which of the two configurations applies.
  const extensions = parseOrFail(
    headers,
    'sec-websocket-extensions',
    parseExtensionOffers,
    'Sec-WebSocket-Extensions',
    'WS_ERR_HANDSHAKE_EXTENSION',
    status,
  );
  const offeredExtensions = new Set(offered.offeredExtensions);
  const acceptedNames = new Set<string>();
  for (const extension of extensions) {
    if (!offeredExtensions.has(extension.name)) {
      throw new HandshakeError(
        'WS_ERR_HANDSHAKE_EXTENSION',
        `The server accepted extension "${extension.name}", which was not offered`,
        { status },
      );
    }
    if (acceptedNames.has(extension.name)) {
      throw new HandshakeError('WS_ERR_HANDSHAKE_EXTENSION', `The server accepted extension "${extension.name}" twice`, {
        status,
      });
    }
    acceptedNames.add(extension.name);
  }

  // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Protocol| header field and this
  // header field indicates the use of a subprotocol that was not present in the client's
  // handshake (the server has indicated a subprotocol not requested by the client), the client
  // MUST _Fail the WebSocket Connection_." §11.3.4: it "MUST NOT appear more than once in an
  // HTTP response", and §4.2.2 makes it "a single value", so a list is failed too.
  const selected = headerValues(headers, 'sec-websocket-protocol');
  let protocol: string | undefined;
  if (selected.length > 0) {
    const value = selected.length === 1 ? (selected[0] ?? '').trim() : '';
    if (!offered.protocols.includes(value)) {
      throw new HandshakeError(
        'WS_ERR_HANDSHAKE_PROTOCOL',
        offered.protocols.length === 0
          ? 'The server selected a subprotocol, but none was offered'
          : 'The server selected a subprotocol that was not offered',
        { status },
      );
    }
    protocol = value;
  }

  return { protocol, extensions };
}

/** Parses a list-valued response header, failing under `code` when it is malformed. */
function parseOrFail<T>(
  headers: IncomingHeaders,
  name: string,
  parse: (value: string, fieldName: string) => T[],
  fieldName: string,
  code: HandshakeError['code'],
  status: number,
): T[] {
  const value = combinedHeaderValue(headers, name);
  if (value === undefined) return [];
  try {
    return parse(value, fieldName);
  } catch (error) {
    throw new HandshakeError(code, (error as Error).message, { status, cause: error });
  }
}
