import { HandshakeError } from '../errors/handshake-error.js';
import {
  type AcceptedHandshake,
  isValidRequestPath,
  isVisibleAscii,
  type OfferedHandshake,
  readAcceptedOffers,
} from './client-handshake.js';
import { HTTP2_CONNECTION_SPECIFIC_FIELDS, http2HeaderFields, WEBSOCKET_PROTOCOL } from './extended-connect-server.js';
import { isToken } from './header-tokens.js';
import { flattenHeaders, type IncomingHeaders } from './incoming-headers.js';
import { assertHeaderValue, extensionsHeaderLine, type OutgoingHeaders } from './outgoing-headers.js';
import { WEBSOCKET_VERSION } from './server-handshake.js';

export interface ExtendedConnectRequestOptions {
  /** `https` for `wss:`, `http` for `ws:`. */
  scheme: 'http' | 'https';
  /** The authority of the target URI: host, with `:port` unless it is the scheme's default. */
  authority: string;
  /** The request target in origin-form (path and query), starting with "/". */
  path: string;
  /** Subprotocols to offer, in order of preference. */
  protocols?: readonly string[] | undefined;
  /** The Sec-WebSocket-Extensions value to offer; '' for none. */
  extensions?: string | undefined;
  /** The Origin value, for clients that act for a web origin. */
  origin?: string | undefined;
  /** Extra header fields, e.g. Authorization. */
  headers?: OutgoingHeaders | undefined;
}

/** Fields the request writes itself, and those HTTP/2 forbids. */
const REQUEST_RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...HTTP2_CONNECTION_SPECIFIC_FIELDS,
  'host',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'origin',
  'content-length',
]);

/**
 * The header block of an extended CONNECT that opens a WebSocket on an HTTP/2 stream (RFC 8441
 * §4, §5), for Node's `session.request`. Send it only once the server's SETTINGS allowed it
 * (§3: "Upon receipt of SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1, a client MAY use the
 * Extended CONNECT as defined in this document when creating new streams"). Throws `TypeError`
 * for the arguments `buildUpgradeRequest` refuses, and for an extra header HTTP/2 forbids.
 */
export function buildExtendedConnectRequest(options: ExtendedConnectRequestOptions): Record<string, string | string[]> {
  const { path, authority, protocols = [], extensions, origin } = options;
  if (!isValidRequestPath(path)) {
    throw new TypeError(`The "path" argument: request path ${JSON.stringify(path)} must start with "/" and hold only visible ASCII, without "#"`);
  }
  if (!isVisibleAscii(authority)) {
    throw new TypeError(`The "authority" argument: ${JSON.stringify(authority)} must be non-empty visible ASCII`);
  }
  for (const protocol of protocols) {
    if (!isToken(protocol)) {
      throw new TypeError(`The "protocols" argument: subprotocol ${JSON.stringify(protocol)} is not a token`);
    }
  }
  if (new Set(protocols).size !== protocols.length) {
    throw new TypeError('The "protocols" argument: subprotocols must be unique');
  }
  // RFC 8441 §5: "The :protocol pseudo-header field MUST be included in the CONNECT request, and
  // it MUST have a value of "websocket"". "The scheme of the target URI ... MUST be "https" for
  // "wss"-schemed WebSockets and "http" for "ws"-schemed WebSockets."
  const request: Record<string, string | string[]> = {
    ':method': 'CONNECT',
    ':protocol': WEBSOCKET_PROTOCOL,
    ':scheme': options.scheme,
    ':authority': authority,
    ':path': path,
    'sec-websocket-version': WEBSOCKET_VERSION,
  };
  if (protocols.length > 0) request['sec-websocket-protocol'] = protocols.join(', ');
  if (extensions !== undefined && extensions !== '') {
    extensionsHeaderLine(extensions);
    request['sec-websocket-extensions'] = extensions;
  }
  if (origin !== undefined) {
    assertHeaderValue(origin, 'The origin', 'origin');
    request.origin = origin;
  }
  return Object.assign(request, http2HeaderFields(options.headers, REQUEST_RESERVED_NAMES, 'headers'));
}

/** An HTTP/2 response as Node's `'response'` event hands it over. */
export interface ExtendedConnectResponse {
  /** The `:status` pseudo-header field. */
  statusCode: number;
  headers: IncomingHeaders;
}

/**
 * Checks the server's answer to an extended CONNECT and returns what it agreed to. Throws a
 * `HandshakeError` carrying the status: anything but a 2xx refuses the tunnel (RFC 8441 §5: "If
 * the server agrees to the WebSocket connection, it MUST respond with a 200 (OK) status code"),
 * and the subprotocol and extensions must be ones offered, as over HTTP/1.1.
 */
export function validateExtendedConnectResponse(
  response: ExtendedConnectResponse,
  offered: Pick<OfferedHandshake, 'protocols' | 'offeredExtensions'>,
): AcceptedHandshake {
  const { statusCode: status, headers } = response;
  if (status < 200 || status > 299) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_STATUS', `Unexpected server response: ${status}`, {
      status,
      headers: flattenHeaders(withoutPseudoHeaders(headers)),
    });
  }
  return readAcceptedOffers(headers, offered, status);
}

function withoutPseudoHeaders(headers: IncomingHeaders): IncomingHeaders {
  const regular: Record<string, string | readonly string[] | undefined> = {};
  for (const name of Object.keys(headers)) if (!name.startsWith(':')) regular[name] = headers[name];
  return regular;
}
