import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import {
  acceptPerMessageDeflateResponse,
  buildUpgradeRequest,
  type Extension,
  generateKey,
  HandshakeError,
  offerPerMessageDeflate,
  PERMESSAGE_DEFLATE,
  PerMessageDeflate,
  type PerMessageDeflateClientOptions,
  validateUpgradeResponse,
} from '@ws/core';
import { flattenHeaders } from './flatten-headers.js';
import { http2Handshake } from './http2-handshake.js';
import { openTransport, type TransportOptions } from './open-transport.js';
import type { ProxyEnvironment } from './proxy-for-url.js';
import { readResponseHead } from './read-response-head.js';
import { type ClientTarget, resolveUrl } from './resolve-url.js';

/** Extra request header fields: a name with one value, or several (one line each). */
export type RequestHeaders = Readonly<Record<string, string | readonly string[]>>;

export interface HandshakeOptions extends TransportOptions {
  /** Subprotocols to offer, in order of preference (RFC 6455 §1.9). */
  readonly protocols?: readonly string[];
  /** Extra request headers (e.g. Authorization, Cookie). The handshake's own fields may not be repeated. */
  readonly headers?: RequestHeaders;
  /** The `Origin` header, for servers that check it (RFC 6455 §10.2). Not sent by default. */
  readonly origin?: string;
  /** Time allowed for the whole opening handshake (connect, TLS, proxy, redirects), in ms. Default 30 000. */
  readonly handshakeTimeout?: number;
  /** Follow 3xx redirects with a Location. Default false, as browsers do for WebSocket. */
  readonly followRedirects?: boolean;
  /** Most redirects followed before failing with `WS_ERR_HANDSHAKE_REDIRECT`. Default 10. */
  readonly maxRedirects?: number;
  /** Aborting it cancels a pending connect (`WS_ERR_HANDSHAKE_ABORTED`). */
  readonly signal?: AbortSignal;
  /** The environment proxy variables are read from; `process.env` by default. */
  readonly environment?: ProxyEnvironment;
  /**
   * Offer permessage-deflate (RFC 7692): `true` for the default offer
   * (`permessage-deflate; client_max_window_bits`), or what to ask for. Default off, as every
   * other compression in this stack: see the README for the trade-off. A server that declines
   * leaves the connection uncompressed; a response that breaks RFC 7692 §7 fails the handshake
   * (`WS_ERR_HANDSHAKE_EXTENSION`).
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateClientOptions;
  /**
   * WebSockets over HTTP/2 (RFC 8441 extended CONNECT). `true`: always (h2 negotiated by ALPN
   * for `wss:`, h2c with prior knowledge for `ws:`); the connect fails if the server does not
   * speak HTTP/2 or does not allow extended CONNECT. `'auto'`: for `wss:`, offer h2 by ALPN and
   * use it when the server's SETTINGS allow extended CONNECT, else fall back to an HTTP/1.1
   * upgrade (remembered for the origin); `ws:` stays on HTTP/1.1. WebSockets to one origin
   * share one HTTP/2 session. Default `false`: HTTP/1.1, as browsers do for a first connection.
   */
  readonly http2?: boolean | 'auto';
}

/** The outcome of a successful opening handshake. */
export interface HandshakeResult {
  /** The transport, paused, with an `'error'` listener attached. */
  readonly socket: Duplex;
  /** Bytes that arrived with the response, after its head: the first frames. */
  readonly head: Buffer;
  /** The URL finally connected to (after redirects). */
  readonly url: URL;
  /** The selected subprotocol ('' when none). */
  readonly protocol: string;
  /** The `Sec-WebSocket-Extensions` value the server answered ('' when none). */
  readonly extensions: string;
  /** The extensions the server accepted, configured as it answered, for the connection's protocol. */
  readonly negotiatedExtensions: readonly Extension[];
  /** The 101 response (the 200 over HTTP/2, without pseudo-header fields). */
  readonly response: { readonly statusCode: number; readonly headers: Readonly<Record<string, string | string[]>> };
  /** `'1.1'` for an upgraded connection, `'2.0'` for a WebSocket on an HTTP/2 stream. */
  readonly httpVersion: '1.1' | '2.0';
}

export const DEFAULT_HANDSHAKE_TIMEOUT = 30_000;
export const DEFAULT_MAX_REDIRECTS = 10;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Credentials that must not follow a redirect to another origin (as fetch and curl drop them). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Performs the client's opening handshake (RFC 6455 §4.1): opens the transport, writes the
 * request built by `@ws/core`, reads and validates the response, follows redirects when asked.
 * Every failure rejects with a `HandshakeError` (`status` is the server's answer, 0 when there
 * was none); nothing hangs past `handshakeTimeout`.
 *
 * The response head is read here rather than through `http.request`: one path for every
 * transport (TCP, TLS, Unix sockets, proxy tunnels, `createConnection`), the bytes after the
 * head handed to the protocol as they are, and every malformed answer reported as the
 * `HandshakeError` that names what is wrong with it.
 */
export async function performHandshake(target: ClientTarget, options: HandshakeOptions = {}): Promise<HandshakeResult> {
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (!(timeout > 0)) throw new RangeError('handshakeTimeout must be a positive number of ms');
  const http2 = options.http2 ?? false;
  if (http2 !== true && http2 !== false && http2 !== 'auto') {
    throw new TypeError(`The "http2" option must be true, false or 'auto'; received ${String(http2)}`);
  }
  checkDeflateOptions(deflateOptionsOf(options));
  const controller = new AbortController();
  const userSignal = options.signal;
  const abortedError = (): HandshakeError =>
    new HandshakeError('WS_ERR_HANDSHAKE_ABORTED', 'The connection attempt was aborted', {
      status: 0,
      cause: userSignal?.reason,
    });
  if (userSignal?.aborted) throw abortedError();
  const onUserAbort = (): void => controller.abort(abortedError());
  userSignal?.addEventListener('abort', onUserAbort, { once: true });
  const timer = setTimeout(() => {
    controller.abort(
      new HandshakeError('WS_ERR_HANDSHAKE_TIMEOUT', `The opening handshake did not complete within ${timeout} ms`, {
        status: 0,
      }),
    );
  }, timeout);
  try {
    if (http2 !== false) {
      const result = await http2Handshake(target, { ...options, http2 }, controller.signal);
      if (result !== undefined) return result;
    }
    return await handshakeWithRedirects(target, options, controller.signal);
  } finally {
    clearTimeout(timer);
    userSignal?.removeEventListener('abort', onUserAbort);
  }
}

async function handshakeWithRedirects(
  initialTarget: ClientTarget,
  options: HandshakeOptions,
  signal: AbortSignal,
): Promise<HandshakeResult> {
  const maxRedirects = options.followRedirects === true ? (options.maxRedirects ?? DEFAULT_MAX_REDIRECTS) : 0;
  let target = initialTarget;
  let headers: RequestHeaders = options.headers ?? {};
  for (let redirects = 0; ; redirects++) {
    const attempt = await handshakeOnce(target, headers, options, signal);
    if (attempt.redirect === undefined) return attempt.result;

    const { status, location, responseHeaders } = attempt.redirect;
    if (options.followRedirects !== true) {
      throw new HandshakeError('WS_ERR_HANDSHAKE_STATUS', `Unexpected server response: ${status} (a redirect)`, {
        status,
        headers: responseHeaders,
      });
    }
    if (redirects >= maxRedirects) {
      throw new HandshakeError('WS_ERR_HANDSHAKE_REDIRECT', `More than ${maxRedirects} redirects`, {
        status,
        headers: responseHeaders,
      });
    }
    let next: ClientTarget;
    try {
      // RFC 7231 §7.1.2: "If the Location value provided in a 3xx (Redirection) response does
      // not have a fragment component, a user agent MUST process the redirection as if the value
      // inherits the fragment component of the URI reference used to generate the request
      // target" — WebSocket URIs have none (RFC 6455 §3), so a fragment in Location is dropped.
      const resolved = new URL(location, target.url);
      resolved.hash = '';
      next = resolveUrl(resolved);
    } catch (error) {
      throw new HandshakeError('WS_ERR_HANDSHAKE_REDIRECT', `Cannot follow the redirect to ${location}`, {
        status,
        headers: responseHeaders,
        cause: error,
      });
    }
    // A remote server must not be able to point the client at a local socket.
    if (next.socketPath !== undefined) {
      throw new HandshakeError('WS_ERR_HANDSHAKE_REDIRECT', `Refusing to follow a redirect to ${next.url.href}`, {
        status,
        headers: responseHeaders,
      });
    }
    if (next.origin !== target.origin) headers = withoutCredentials(headers);
    target = next;
  }
}

interface Redirect {
  readonly status: number;
  readonly location: string;
  readonly responseHeaders: Record<string, string>;
}

type Attempt = { readonly result: HandshakeResult; readonly redirect?: undefined } | { readonly redirect: Redirect };

async function handshakeOnce(
  target: ClientTarget,
  headers: RequestHeaders,
  options: HandshakeOptions,
  signal: AbortSignal,
): Promise<Attempt> {
  const key = generateKey();
  const protocols = options.protocols ?? [];
  const deflateOptions = deflateOptionsOf(options);
  const request = buildUpgradeRequest({
    host: target.hostHeader,
    path: target.path,
    key,
    protocols,
    extensions: deflateOptions === undefined ? undefined : offerPerMessageDeflate(deflateOptions),
    origin: options.origin,
    headers: withUrlCredentials(headers, target),
  });
  if (signal.aborted) throw signal.reason;

  let socket: Duplex;
  try {
    socket = await openTransport(target, options, signal, options.environment);
  } catch (error) {
    if (error instanceof HandshakeError || signal.aborted) throw signal.aborted ? signal.reason : error;
    throw new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', (error as Error).message, { status: 0, cause: error });
  }
  // From here until the connection's own listener is attached, a transport error must not
  // find the socket without one: it would crash the process. The close it causes reports it.
  socket.on('error', ignoreTransportError);
  if (signal.aborted) {
    socket.destroy();
    throw signal.reason;
  }
  socket.write(request);

  // Interim 1xx responses are skipped by the reader, within one byte budget for the whole answer.
  const response = await readResponseHead(socket, signal);

  const location = response.headers.location;
  if (REDIRECT_STATUSES.has(response.statusCode) && typeof location === 'string' && location !== '') {
    socket.destroy();
    return { redirect: { status: response.statusCode, location, responseHeaders: flattenHeaders(response.headers) } };
  }
  let accepted;
  const negotiatedExtensions: Extension[] = [];
  try {
    accepted = validateUpgradeResponse(
      { statusCode: response.statusCode, headers: response.headers },
      { key, protocols, offeredExtensions: deflateOptions === undefined ? [] : [PERMESSAGE_DEFLATE] },
    );
    // RFC 7692 §5: a response without permessage-deflate means "both endpoints proceed without
    // per-message compression"; one with it must meet §7, else the client "MUST _Fail the
    // WebSocket Connection_" (acceptPerMessageDeflateResponse throws HandshakeError).
    const deflateResponse = accepted.extensions.find((extension) => extension.name === PERMESSAGE_DEFLATE);
    if (deflateResponse !== undefined) {
      negotiatedExtensions.push(acceptPerMessageDeflateResponse(deflateResponse, deflateOptions));
    }
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const extensions = response.headers['sec-websocket-extensions'];
  return {
    result: {
      socket,
      head: response.rest,
      url: target.url,
      protocol: accepted.protocol ?? '',
      extensions: Array.isArray(extensions) ? extensions.join(', ') : (extensions ?? ''),
      negotiatedExtensions,
      response: { statusCode: response.statusCode, headers: response.headers },
      httpVersion: '1.1',
    },
  };
}

function ignoreTransportError(): void {}

export function deflateOptionsOf(options: HandshakeOptions): PerMessageDeflateClientOptions | undefined {
  const option = options.perMessageDeflate;
  if (option === undefined || option === false) return undefined;
  return option === true ? {} : option;
}

/**
 * Bad compression options throw `TypeError`/`RangeError` before anything is connected: the offer
 * checks the window bits, an extension built from the options checks the rest (its zlib
 * engines are created on first use, so it costs nothing).
 */
function checkDeflateOptions(options: PerMessageDeflateClientOptions | undefined): void {
  if (options === undefined) return;
  offerPerMessageDeflate(options);
  new PerMessageDeflate({ threshold: options.threshold, level: options.level, memLevel: options.memLevel }).dispose();
}

/** RFC 7617 Basic credentials from the URL's userinfo, unless the caller sent an Authorization. */
export function withUrlCredentials(headers: RequestHeaders, target: ClientTarget): RequestHeaders {
  if (target.username === '' && target.password === '') return headers;
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) return headers;
  const credentials = Buffer.from(`${target.username}:${target.password}`).toString('base64');
  return { ...headers, Authorization: `Basic ${credentials}` };
}

function withoutCredentials(headers: RequestHeaders): RequestHeaders {
  const kept: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}
