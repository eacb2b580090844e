import { Buffer } from 'node:buffer';
import { type ClientHttp2Session, type ClientHttp2Stream, connect as connectHttp2, type IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  acceptPerMessageDeflateResponse,
  buildExtendedConnectRequest,
  type Extension,
  HandshakeError,
  offerPerMessageDeflate,
  PERMESSAGE_DEFLATE,
  validateExtendedConnectResponse,
} from '@ws/core';
import { abortTransport } from '@ws/core/node';
import { deflateOptionsOf, type HandshakeOptions, type HandshakeResult, withUrlCredentials } from './client-handshake.js';
import { http2Sessions, sessionKey } from './http2-session-pool.js';
import { openTransport } from './open-transport.js';
import type { ClientTarget } from './resolve-url.js';

const EMPTY = Buffer.alloc(0);

/** The options that shape a session's transport: WebSockets share a session only if these match. */
const SESSION_SETTINGS = [
  'ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'checkServerIdentity',
  'minVersion', 'maxVersion', 'ciphers', 'secureContext', 'session', 'createConnection', 'proxy', 'family',
  'localAddress', 'lookup', 'environment',
] as const;

/**
 * Opens a WebSocket on an HTTP/2 stream (RFC 8441): on a pooled session to the origin, or a new
 * one, then an extended CONNECT on it. Resolves undefined when `http2: 'auto'` should fall back
 * to an HTTP/1.1 upgrade: a `ws:` URL, a server that did not pick h2 by ALPN, or whose SETTINGS
 * do not allow extended CONNECT (remembered for the origin). Rejects with a `HandshakeError`.
 */
export async function http2Handshake(
  target: ClientTarget,
  options: HandshakeOptions & { readonly http2: true | 'auto' },
  signal: AbortSignal,
): Promise<HandshakeResult | undefined> {
  const auto = options.http2 === 'auto';
  // Without TLS there is no ALPN to ask with: h2c needs prior knowledge (`http2: true`).
  if (auto && !target.secure) return undefined;
  const key = sessionKey(target.origin, options as unknown as Readonly<Record<string, unknown>>, SESSION_SETTINGS);
  if (auto && http2Sessions.isHttp1Only(key)) return undefined;
  const acquired = await http2Sessions.acquire(key, async () => {
    const session = await openSession(target, options, signal, auto);
    if (session === undefined) http2Sessions.markHttp1Only(key);
    return session;
  });
  if (acquired === undefined) return undefined;
  let stream: ClientHttp2Stream;
  try {
    stream = requestWebSocket(acquired.session, target, options);
  } catch (error) {
    acquired.pooled.release();
    throw error;
  }
  stream.once('close', () => acquired.pooled.release());
  try {
    return await answerOf(stream, target, options, signal);
  } catch (error) {
    // A handshake that failed or was abandoned: the stream is reset with CANCEL.
    abortTransport(stream);
    throw error;
  }
}

/** A new session whose server allows extended CONNECT; undefined when `auto` should fall back. */
async function openSession(
  target: ClientTarget,
  options: HandshakeOptions,
  signal: AbortSignal,
  auto: boolean,
): Promise<ClientHttp2Session | undefined> {
  let socket: Duplex;
  try {
    socket = await openTransport(target, options, signal, options.environment, auto ? ['h2', 'http/1.1'] : ['h2']);
  } catch (error) {
    if (error instanceof HandshakeError || signal.aborted) throw signal.aborted ? signal.reason : error;
    throw new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', (error as Error).message, { status: 0, cause: error });
  }
  socket.on('error', ignoreError);
  try {
    if (target.secure && 'alpnProtocol' in socket) {
      await settled(socket, 'secureConnect', signal);
      if ((socket as TLSSocket).alpnProtocol !== 'h2') {
        socket.destroy();
        if (auto) return undefined;
        throw new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', `${target.origin} did not agree to HTTP/2 (ALPN)`, { status: 0 });
      }
    }
    const session = connectHttp2(`${target.secure ? 'https' : 'http'}://${target.hostHeader}`, {
      createConnection: () => socket,
      settings: { enablePush: false },
    });
    // A session's failure reaches each of its WebSockets as the end of its stream.
    session.on('error', ignoreError);
    try {
      await settled(session, 'remoteSettings', signal);
    } catch (error) {
      session.destroy();
      throw error;
    }
    // RFC 8441 §3: "Upon receipt of SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1, a client
    // MAY use the Extended CONNECT as defined in this document when creating new streams."
    if (session.remoteSettings.enableConnectProtocol === true) return session;
    session.close();
    if (auto) return undefined;
    throw new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', `${target.origin} speaks HTTP/2 but does not allow extended CONNECT (RFC 8441)`, {
      status: 0,
    });
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

function requestWebSocket(session: ClientHttp2Session, target: ClientTarget, options: HandshakeOptions): ClientHttp2Stream {
  const deflateOptions = deflateOptionsOf(options);
  const headers = buildExtendedConnectRequest({
    scheme: target.secure ? 'https' : 'http',
    authority: target.hostHeader,
    path: target.path,
    protocols: options.protocols,
    extensions: deflateOptions === undefined ? undefined : offerPerMessageDeflate(deflateOptions),
    origin: options.origin,
    headers: withUrlCredentials(options.headers ?? {}, target),
  });
  try {
    const stream = session.request(headers, { endStream: false });
    stream.on('error', ignoreError);
    return stream;
  } catch (error) {
    throw new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', `The HTTP/2 session refused the request: ${(error as Error).message}`, {
      status: 0,
      cause: error,
    });
  }
}

/** Waits for the server's answer to the extended CONNECT and checks it. */
async function answerOf(
  stream: ClientHttp2Stream,
  target: ClientTarget,
  options: HandshakeOptions,
  signal: AbortSignal,
): Promise<HandshakeResult> {
  const [responseHeaders] = (await settled(stream, 'response', signal)) as [IncomingHttpHeaders];
  const statusCode = Number(responseHeaders[':status']);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(responseHeaders)) {
    if (!name.startsWith(':') && value !== undefined) headers[name] = value;
  }
  const deflateOptions = deflateOptionsOf(options);
  const protocols = options.protocols ?? [];
  const accepted = validateExtendedConnectResponse(
    { statusCode, headers },
    { protocols, offeredExtensions: deflateOptions === undefined ? [] : [PERMESSAGE_DEFLATE] },
  );
  const negotiatedExtensions: Extension[] = [];
  const deflateResponse = accepted.extensions.find((extension) => extension.name === PERMESSAGE_DEFLATE);
  if (deflateResponse !== undefined) negotiatedExtensions.push(acceptPerMessageDeflateResponse(deflateResponse, deflateOptions));
  const extensions = headers['sec-websocket-extensions'];
  return {
    socket: stream,
    head: EMPTY,
    url: target.url,
    protocol: accepted.protocol ?? '',
    extensions: Array.isArray(extensions) ? extensions.join(', ') : (extensions ?? ''),
    negotiatedExtensions,
    response: { statusCode, headers },
    httpVersion: '2.0',
  };
}

interface Emitter {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Resolves with `event`'s arguments; rejects when the emitter errors or closes first (a
 * `HandshakeError` naming what happened) or `signal` aborts (its reason).
 */
function settled(emitter: Emitter, event: string, signal: AbortSignal): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      emitter.off(event, onEvent);
      emitter.off('error', onError);
      emitter.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onEvent = (...args: unknown[]): void => {
      cleanup();
      resolve(args);
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', (error as Error).message, { status: 0, cause: error }));
    };
    const onClose = (): void => {
      cleanup();
      reject(new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', `The HTTP/2 ${event === 'response' ? 'stream' : 'connection'} closed before the handshake completed`, { status: 0 }));
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    emitter.once(event, onEvent);
    emitter.once('error', onError);
    emitter.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function ignoreError(): void {
  // Failures are reported where they matter: the handshake's promise, or the WebSocket's close.
}
