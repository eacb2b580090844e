import { Buffer } from 'node:buffer';
import { HandshakeError } from '../errors/handshake-error.js';
import { computeAcceptKey, isValidKey } from './accept-key.js';
import { isToken, parseTokenList, parseUpgradeList } from './header-tokens.js';
import { headerValues, type IncomingHeaders } from './incoming-headers.js';
import { parseListHeader, readWebSocketRequestFields, type WebSocketRequestFields } from './websocket-request-fields.js';
import { extensionsHeaderLine, formatHeaderFields, type OutgoingHeaders } from './outgoing-headers.js';

/** The parts of an HTTP request the opening handshake looks at, as Node's `IncomingMessage` has them. */
export interface UpgradeRequest {
  /** e.g. `GET`; Node's `IncomingMessage.method` may be undefined, which is refused like any non-GET. */
  method?: string | undefined;
  /** e.g. `1.1`, as Node's `IncomingMessage.httpVersion`. */
  httpVersion: string;
  headers: IncomingHeaders;
}

/** What a valid opening handshake asks for. */
export interface ValidatedUpgradeRequest extends WebSocketRequestFields {
  /** The Sec-WebSocket-Key, for `buildAcceptResponse`. */
  key: string;
}

/** The version this implementation speaks. RFC 6455 §4.1: "The value of this header field MUST be 13." */
export const WEBSOCKET_VERSION = '13';

/** Parses `major.minor` as Node reports it; undefined when it is not two decimal numbers. */
function parseHttpVersion(httpVersion: string): { major: number; minor: number } | undefined {
  const dot = httpVersion.indexOf('.');
  const major = httpVersion.slice(0, dot);
  const minor = httpVersion.slice(dot + 1);
  const isNumber = (text: string) => text.length > 0 && text.length <= 3 && /^[0-9]+$/.test(text);
  if (dot === -1 || !isNumber(major) || !isNumber(minor)) return undefined;
  return { major: Number(major), minor: Number(minor) };
}

/**
 * Checks an opening handshake request (RFC 6455 §4.2.1) and returns what it asks for. Throws a
 * `HandshakeError` whose `status` (and `headers`) the server answers with, e.g. through
 * `buildRejectResponse`.
 *
 * Repeated fields follow RFC 7230 §3.2.2: an array value and a comma-joined value mean the same.
 * List-valued fields (Upgrade, Connection, Sec-WebSocket-Protocol, Sec-WebSocket-Extensions) are
 * combined; a repeated Host, Sec-WebSocket-Key or Sec-WebSocket-Version is rejected.
 */
export function validateUpgradeRequest(request: UpgradeRequest): ValidatedUpgradeRequest {
  const { headers } = request;

  // RFC 6455 §4.2.1: "An HTTP/1.1 or higher GET request". RFC 7231 §6.5.5: "The origin server
  // MUST generate an Allow header field in a 405 response".
  if (request.method !== 'GET') {
    throw new HandshakeError('WS_ERR_HANDSHAKE_METHOD', `Method ${request.method} is not allowed; use GET`, {
      headers: { allow: 'GET' },
    });
  }
  const version = parseHttpVersion(request.httpVersion);
  if (version === undefined || version.major < 1 || (version.major === 1 && version.minor < 1)) {
    throw new HandshakeError(
      'WS_ERR_HANDSHAKE_HTTP_VERSION',
      `HTTP/${request.httpVersion} cannot upgrade to WebSocket; HTTP/1.1 or higher is required`,
    );
  }

  // RFC 6455 §4.2.1: "A |Host| header field containing the server's authority." RFC 7230 §5.4:
  // "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message
  // that lacks a Host header field and to any request message that contains more than one Host
  // header field".
  const hosts = headerValues(headers, 'host');
  if (hosts.length !== 1 || (hosts[0] ?? '').trim() === '') {
    throw new HandshakeError(
      'WS_ERR_HANDSHAKE_HOST',
      hosts.length > 1 ? 'The Host header must appear once' : 'The Host header is missing',
    );
  }

  // RFC 6455 §4.2.1: "An |Upgrade| header field containing the value "websocket", treated as an
  // ASCII case-insensitive value." An element with a version (`websocket/13`) is another value.
  const upgrades = parseListHeader(headers, 'upgrade', parseUpgradeList, 'Upgrade', 'WS_ERR_HANDSHAKE_UPGRADE');
  if (!upgrades.some((protocol) => protocol.toLowerCase() === 'websocket')) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_UPGRADE', 'The Upgrade header must contain "websocket"');
  }

  // RFC 6455 §4.2.1: "A |Connection| header field that includes the token "Upgrade", treated as
  // an ASCII case-insensitive value."
  const connectionOptions = parseListHeader(
    headers,
    'connection',
    parseTokenList,
    'Connection',
    'WS_ERR_HANDSHAKE_CONNECTION',
  );
  if (!connectionOptions.some((option) => option.toLowerCase() === 'upgrade')) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_CONNECTION', 'The Connection header must contain "Upgrade"');
  }

  // RFC 6455 §4.2.1: "A |Sec-WebSocket-Key| header field with a base64-encoded (see Section 4 of
  // [RFC4648]) value that, when decoded, is 16 bytes in length." §11.3.1: "The
  // |Sec-WebSocket-Key| header field MUST NOT appear more than once in an HTTP request." A comma
  // is never part of a base64 key, so one means two fields that Node joined.
  const keys = headerValues(headers, 'sec-websocket-key');
  const key = keys[0];
  if (key === undefined) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_KEY', 'The Sec-WebSocket-Key header is missing');
  }
  if (keys.length > 1 || key.includes(',')) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_KEY', 'The Sec-WebSocket-Key header must appear once');
  }
  if (!isValidKey(key)) {
    throw new HandshakeError(
      'WS_ERR_HANDSHAKE_KEY',
      'The Sec-WebSocket-Key header must be 16 bytes in base64 (24 characters ending in "==")',
    );
  }

  // RFC 6455 §4.2.1: "A |Sec-WebSocket-Version| header field, with a value of 13." §4.2.2: "If
  // this version does not match a version understood by the server, the server MUST abort the
  // WebSocket handshake described in this section and instead send an appropriate HTTP error code
  // (such as 426 Upgrade Required) and a |Sec-WebSocket-Version| header field indicating the
  // version(s) the server is capable of understanding." RFC 7231 §6.5.15: "The server MUST send
  // an Upgrade header field in a 426 response to indicate the required protocol(s)".
  const versions = headerValues(headers, 'sec-websocket-version');
  if (versions.length !== 1 || versions[0]?.trim() !== WEBSOCKET_VERSION) {
    throw new HandshakeError(
      'WS_ERR_HANDSHAKE_VERSION',
      versions.length === 0
        ? 'The Sec-WebSocket-Version header is missing; this server speaks version 13'
        : 'Unsupported Sec-WebSocket-Version; this server speaks version 13',
      { headers: { 'sec-websocket-version': WEBSOCKET_VERSION, upgrade: 'websocket' } },
    );
  }

  return { key, ...readWebSocketRequestFields(headers) };
}

/**
 * Picks the subprotocol to answer with: the first one in the SERVER's `supported` list that the
 * client offered, so the server's preference wins over the client's order. Names compare
 * exactly (case-sensitive), as browsers compare the answer. Undefined when none matches, and
 * the response then carries no Sec-WebSocket-Protocol (RFC 6455 §4.2.2: "The value chosen MUST
 * be derived from the client's handshake ... (if any)").
 */
export function selectSubprotocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  const offeredSet = new Set(offered);
  return supported.find((protocol) => offeredSet.has(protocol));
}

/** Fields a 101 response writes itself; extra headers may not repeat them. */
const ACCEPT_RESERVED_NAMES: ReadonlySet<string> = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  // RFC 7230 §3.3.2: "A server MUST NOT send a Content-Length header field in any response with
  // a status code of 1xx"; §3.3.1 says the same of Transfer-Encoding.
  'content-length',
  'transfer-encoding',
]);

export interface AcceptResponseOptions {
  /** The request's Sec-WebSocket-Key. */
  key: string;
  /** The selected subprotocol; undefined or '' for none. */
  protocol?: string | undefined;
  /** The accepted extensions as a Sec-WebSocket-Extensions value; undefined or '' for none. */
  extensions?: string | undefined;
  /** Extra header fields, e.g. Set-Cookie. */
  headers?: OutgoingHeaders | undefined;
}

/**
 * The complete `101 Switching Protocols` response head (RFC 6455 §4.2.2), ending with the blank
 * line; write it as it is. Throws `TypeError` for
 * an invalid key, a protocol that is not a token, an extensions value that does not parse, or
 * an extra header whose name is not a token, whose value holds CR, LF or another character
 * outside visible ASCII, SP and HTAB (response splitting), or that repeats a field written here.
 */
export function buildAcceptResponse(options: AcceptResponseOptions): string {
  const { key, protocol, extensions } = options;
  if (!isValidKey(key)) {
    throw new TypeError('The "key" argument is not a valid Sec-WebSocket-Key');
  }
  let head =
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n`;
  if (protocol !== undefined && protocol !== '') {
    // RFC 6455 §4.2.2: the subprotocol is "a single value"; a list or a non-token is our bug.
    if (!isToken(protocol)) {
      throw new TypeError(`The "protocol" argument: subprotocol ${JSON.stringify(protocol)} is not a token`);
    }
    head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  }
  head += extensionsHeaderLine(extensions);
  return head + formatHeaderFields(options.headers, ACCEPT_RESERVED_NAMES, 'headers') + '\r\n';
}

/** Reason phrases of the statuses a handshake rejection uses (RFC 7231 §6, RFC 6585). */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Fields a rejection writes itself. Content-Type is not among them: extra headers may override it. */
const REJECT_RESERVED_NAMES: ReadonlySet<string> = new Set(['connection', 'content-length', 'transfer-encoding']);

export interface RejectResponseOptions {
  /** An error or redirect status, 300-599 (e.g. a `HandshakeError`'s `status`). */
  status: number;
  /** Extra header fields (e.g. a `HandshakeError`'s `headers`). */
  headers?: OutgoingHeaders | undefined;
  /** A plain-text body; defaults to the reason phrase. */
  body?: string | undefined;
}

/**
 * A complete HTTP/1.1 response refusing the upgrade: status line, `Connection: close`,
 * `Content-Type: text/plain; charset=utf-8` (unless the extra headers set one), `Content-Length`
 * and the body. Write it as UTF-8 (Content-Length counts the body's UTF-8 bytes; the head is
 * ASCII), then close the connection. Throws `RangeError` for a status outside 300-599
 * (a 1xx or 2xx here would tell the client the upgrade happened or the request succeeded) and
 * for unsafe extra headers, as `buildAcceptResponse` does.
 */
export function buildRejectResponse(options: RejectResponseOptions): string {
  const { status } = options;
  if (!Number.isInteger(status) || status < 300 || status > 599) {
    throw new RangeError(`Status ${status} cannot reject a handshake; use 300-599`);
  }
  const reason = REASON_PHRASES[status] ?? 'Error';
  const body = options.body ?? reason;
  const extraHeaders = options.headers ?? {};
  const extraNames = Object.keys(extraHeaders).map((name) => name.toLowerCase());
  // RFC 7230 §6.7: "When Upgrade is sent, the sender MUST also send a Connection header field
  // (Section 6.1) that contains an "upgrade" connection option", as a 426 does.
  const connection = extraNames.includes('upgrade') ? 'Upgrade, close' : 'close';
  const contentType = extraNames.includes('content-type') ? '' : 'Content-Type: text/plain; charset=utf-8\r\n';
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `Connection: ${connection}\r\n` +
    contentType +
    `Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n` +
    formatHeaderFields(extraHeaders, REJECT_RESERVED_NAMES, 'headers') +
    '\r\n' +
    body
  );
}
