import {
  acceptPerMessageDeflate,
  buildAcceptResponse,
  buildExtendedConnectResponse,
  type Http2ResponseHeaders,
  type ExtensionOffer,
  HandshakeError,
  type OutgoingHeaders,
  type PerMessageDeflate,
  type PerMessageDeflateServerOptions,
  selectSubprotocol,
  validateExtendedConnectRequest,
  validateUpgradeRequest,
  type WebSocketRequestFields,
} from '@ws/core';
import type { UpgradeRejection } from './reject-upgrade.js';
import type { WebSocketRequest } from './web-socket-request.js';

/** What the handshake hooks are told about a request, beside the request itself. */
export interface HandshakeInfo {
  /** The Origin header, when sent (browsers always send it). */
  readonly origin: string | undefined;
  /** The subprotocols the client offered, in its order of preference. */
  readonly protocols: readonly string[];
  /** The extensions the client offered. */
  readonly extensions: readonly ExtensionOffer[];
  readonly remoteAddress: string | undefined;
  /** The request target's path, without the query. */
  readonly path: string;
  /** The request target's query parameters. */
  readonly searchParams: URLSearchParams;
  /** Aborted when the handshake times out, the server closes or the client goes away. */
  readonly signal: AbortSignal;
}

/**
 * What `authenticate` decides: accept, with the per-connection `data` the connection handler
 * receives (and extra response headers, e.g. Set-Cookie), or reject with an HTTP status
 * (default 401), headers and a plain-text body.
 */
export type AuthenticateResult<Data> =
  | { readonly accept: true; readonly data: Data; readonly headers?: OutgoingHeaders }
  | {
      readonly accept: false;
      readonly status?: number;
      readonly headers?: OutgoingHeaders;
      readonly body?: string;
    };

export type Authenticate<Data> = (
  request: WebSocketRequest,
  info: HandshakeInfo,
) => AuthenticateResult<Data> | Promise<AuthenticateResult<Data>>;

/** Which origins may connect: a list (compared case-insensitively) or a predicate. */
export type OriginPolicy = readonly string[] | ((origin: string | undefined, request: WebSocketRequest) => boolean);

/** The handshake rules of one server (see `WebSocketServerOptions` for each). */
export interface UpgradePolicy<Data> {
  readonly path: string | undefined;
  readonly allowedOrigins: OriginPolicy | undefined;
  readonly protocols: readonly string[] | undefined;
  readonly selectProtocol: ((offered: readonly string[], request: WebSocketRequest) => string | undefined) | undefined;
  readonly authenticate: Authenticate<Data> | undefined;
  readonly headers: OutgoingHeaders | ((request: WebSocketRequest, info: HandshakeInfo) => OutgoingHeaders | undefined) | undefined;
  /** What permessage-deflate offers are accepted with; undefined when compression is off. */
  readonly perMessageDeflate: PerMessageDeflateServerOptions | undefined;
}

export type UpgradeOutcome<Data> =
  | {
      readonly accepted: true;
      /** The 101 response head (HTTP/1.1), or the 200 header block of an extended CONNECT (HTTP/2). */
      readonly response: string | Http2ResponseHeaders;
      readonly protocol: string;
      readonly data: Data;
      /** The `Sec-WebSocket-Extensions` value of the response ('' when none was accepted). */
      readonly extensions: string;
      /** The negotiated permessage-deflate, for the connection's protocol; whoever drops the outcome disposes it. */
      readonly deflate: PerMessageDeflate | undefined;
    }
  | { readonly accepted: false; readonly error: HandshakeError; readonly rejection: UpgradeRejection };

/** The path of a request target (`/chat?room=1` → `/chat`). */
export function pathOf(url: string | undefined): string {
  const target = url ?? '/';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

function refuse<Data>(error: HandshakeError, body?: string): UpgradeOutcome<Data> {
  const headers = Object.keys(error.headers).length > 0 ? error.headers : undefined;
  return { accepted: false, error, rejection: { status: error.status, headers, body: body ?? error.message } };
}

/** A hook of ours threw or returned something unusable: the server's fault, 500. */
function internalError<Data>(message: string, cause: unknown): UpgradeOutcome<Data> {
  const error = new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', message, { status: 500, cause });
  return { accepted: false, error, rejection: { status: 500 } };
}

function originAllowed(policy: OriginPolicy, origin: string | undefined, request: WebSocketRequest): boolean {
  if (typeof policy === 'function') return policy(origin, request);
  if (origin === undefined) return false;
  // RFC 6454 §6.2 serializes an origin in lower case; compare as such.
  const lowered = origin.toLowerCase();
  return policy.some((allowed) => allowed.toLowerCase() === lowered);
}

/**
 * Decides an opening handshake (RFC 6455 §4.2, or RFC 8441 §5 for an extended CONNECT over
 * HTTP/2, `request.httpVersion` `'2.0'`, which runs the same checks and hooks): route, validate, check the origin, pick the
 * subprotocol, run `authenticate`, and build the 101 response or the error response. It writes
 * nothing: the server writes the outcome, so a handshake that timed out meanwhile is answered
 * once, with 408.
 *
 * Without an `authenticate` hook (the only one that may be asynchronous) the outcome is returned
 * at once, not as a promise: a server accepting thousands of connections then makes no promise
 * chain, abort signal or timer per handshake.
 */
export function negotiateUpgrade<Data>(
  request: WebSocketRequest,
  policy: UpgradePolicy<Data>,
  context: UpgradeContext,
): UpgradeOutcome<Data> | Promise<UpgradeOutcome<Data>> {
  const checked = checkRequest(request, policy);
  if (!('path' in checked)) return checked;
  if (policy.authenticate === undefined) return respond(request, policy, context, checked, undefined as Data, undefined);
  return authenticateThenRespond(request, policy, context, checked, policy.authenticate);
}

/** What the server knows of the handshake beside the request. */
export interface UpgradeContext {
  readonly remoteAddress: string | undefined;
  /** Aborted when the handshake times out, the server closes or the client goes away. */
  readonly signal: AbortSignal;
}

/** A request that passed every check that needs no hook of the application's but `selectProtocol`. */
interface CheckedRequest {
  /** The Sec-WebSocket-Key; undefined over HTTP/2, which has none (RFC 8441 §5). */
  readonly key: string | undefined;
  readonly path: string;
  readonly origin: string | undefined;
  readonly protocols: readonly string[];
  readonly extensions: readonly ExtensionOffer[];
  readonly protocol: string | undefined;
}

function checkRequest<Data>(request: WebSocketRequest, policy: UpgradePolicy<Data>): CheckedRequest | UpgradeOutcome<Data> {
  const path = pathOf(request.url);
  if (policy.path !== undefined && path !== policy.path) {
    return refuse(new HandshakeError('WS_ERR_HANDSHAKE_PATH', `No WebSocket endpoint at ${path}`));
  }

  const http2 = request.httpVersion === '2.0';
  let validated: WebSocketRequestFields & { key?: string };
  try {
    validated = http2
      ? validateExtendedConnectRequest({ headers: request.headers })
      : validateUpgradeRequest({ method: request.method ?? '', httpVersion: request.httpVersion, headers: request.headers });
  } catch (error) {
    if (error instanceof HandshakeError) return refuse(error);
    return internalError('The request could not be validated', error);
  }

  // RFC 6455 §4.1 describes the handshake as a GET request without a body, and Node hands
  // whatever follows the head over as `head`, where a body would be read as WebSocket frames.
  // Refusing it is the one unambiguous outcome. (Over HTTP/2 the CONNECT's DATA frames are the
  // tunnel itself.)
  const contentLength = request.headers['content-length'];
  if (!http2 && (request.headers['transfer-encoding'] !== undefined || (contentLength !== undefined && contentLength !== '0'))) {
    return refuse(new HandshakeError('WS_ERR_HANDSHAKE_HEADER', 'An upgrade request must not have a body'));
  }

  const { origin } = validated;
  // RFC 6455 §10.2: "servers that are not intended to process input from any web page but only
  // for certain sites SHOULD verify the |Origin| field is an origin they expect. If the origin
  // indicated is unacceptable to the server, then it SHOULD respond to the WebSocket handshake
  // with a reply containing HTTP 403 Forbidden status code."
  if (policy.allowedOrigins !== undefined) {
    let allowed: boolean;
    try {
      allowed = originAllowed(policy.allowedOrigins, origin, request);
    } catch (error) {
      return internalError('allowedOrigins threw', error);
    }
    if (!allowed) {
      return refuse(new HandshakeError('WS_ERR_HANDSHAKE_ORIGIN', `Origin ${origin ?? '(none)'} is not allowed`));
    }
  }

  let protocol: string | undefined;
  try {
    protocol =
      policy.selectProtocol !== undefined
        ? policy.selectProtocol(validated.protocols, request)
        : selectSubprotocol(validated.protocols, policy.protocols ?? []);
  } catch (error) {
    return internalError('selectProtocol threw', error);
  }
  // RFC 6455 §4.2.2: the subprotocol "MUST be derived from the client's handshake".
  if (protocol !== undefined && !validated.protocols.includes(protocol)) {
    return internalError(`selectProtocol chose ${JSON.stringify(protocol)}, which the client did not offer`, undefined);
  }
  return { key: validated.key, path, origin, protocols: validated.protocols, extensions: validated.extensions, protocol };
}

function handshakeInfo(request: WebSocketRequest, context: UpgradeContext, checked: CheckedRequest): HandshakeInfo {
  return {
    origin: checked.origin,
    protocols: checked.protocols,
    extensions: checked.extensions,
    remoteAddress: context.remoteAddress,
    path: checked.path,
    searchParams: new URLSearchParams(request.url?.slice(checked.path.length + 1) ?? ''),
    signal: context.signal,
  };
}

async function authenticateThenRespond<Data>(
  request: WebSocketRequest,
  policy: UpgradePolicy<Data>,
  context: UpgradeContext,
  checked: CheckedRequest,
  authenticate: Authenticate<Data>,
): Promise<UpgradeOutcome<Data>> {
  const info = handshakeInfo(request, context, checked);
  let result: AuthenticateResult<Data>;
  try {
    result = await authenticate(request, info);
  } catch (error) {
    return internalError('authenticate threw', error);
  }
  if (result.accept !== true) {
    const error = new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', 'authenticate rejected the request', {
      status: result.status ?? 401,
      headers: result.headers === undefined ? undefined : flatten(result.headers),
    });
    return { accepted: false, error, rejection: { status: error.status, headers: result.headers, body: result.body } };
  }
  return respond(request, policy, context, checked, result.data, result.headers, info);
}

/** Builds the 101 response for a request that nothing refused. */
function respond<Data>(
  request: WebSocketRequest,
  policy: UpgradePolicy<Data>,
  context: UpgradeContext,
  checked: CheckedRequest,
  data: Data,
  authenticatedHeaders: OutgoingHeaders | undefined,
  info?: HandshakeInfo,
): UpgradeOutcome<Data> {
  let extraHeaders: OutgoingHeaders | undefined;
  try {
    extraHeaders =
      typeof policy.headers === 'function'
        ? policy.headers(request, info ?? handshakeInfo(request, context, checked))
        : policy.headers;
  } catch (error) {
    return internalError('headers threw', error);
  }
  const headers =
    authenticatedHeaders === undefined ? extraHeaders : { ...extraHeaders, ...authenticatedHeaders };

  // Negotiated last, once nothing else can refuse the request: the extension is the one thing
  // here that holds resources (zlib engines, created lazily, released by `dispose`). RFC 7692
  // §5: when no offer is acceptable the response leaves permessage-deflate out and "both
  // endpoints proceed without per-message compression once _the WebSocket Connection is
  // established_."
  const accepted =
    policy.perMessageDeflate === undefined ? undefined : acceptPerMessageDeflate(checked.extensions, policy.perMessageDeflate);

  let response: string | Http2ResponseHeaders;
  try {
    response =
      checked.key === undefined
        ? buildExtendedConnectResponse({ protocol: checked.protocol, headers, extensions: accepted?.response })
        : buildAcceptResponse({ key: checked.key, protocol: checked.protocol, headers, extensions: accepted?.response });
  } catch (error) {
    accepted?.extension.dispose();
    return internalError(`The response cannot be written: ${(error as Error).message}`, error);
  }
  return {
    accepted: true,
    response,
    protocol: checked.protocol ?? '',
    data,
    extensions: accepted?.response ?? '',
    deflate: accepted?.extension,
  };
}

function flatten(headers: OutgoingHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = typeof value === 'string' ? value : value.join(', ');
  return flat;
}
