import { type ClientHttp2Stream, connect as connectHttp2, type IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { HttpHeaders, HttpResponseHead } from './http-head.js';
import type { RequestHeaders } from './client-handshake.js';
import type { Transcript } from './transcript.js';

export interface ExtendedConnectOptions {
  readonly target: URL;
  readonly secure: boolean;
  /** A connected TCP or TLS socket; over TLS it must have agreed to h2 by ALPN. */
  readonly socket: Duplex;
  readonly transcript: Transcript;
  readonly timeout: number;
  /** Header fields to add, replace (case-insensitively) or, with null, remove. */
  readonly headers: RequestHeaders;
  readonly protocols: readonly string[];
  /** The :method pseudo-header field. Default CONNECT. */
  readonly method?: string;
}

export interface ExtendedConnect {
  readonly stream: ClientHttp2Stream;
  readonly response: HttpResponseHead;
}

/**
 * Opens an HTTP/2 session on `socket`, waits for the server's SETTINGS, and sends an extended
 * CONNECT for a WebSocket (RFC 8441 §4, §5). The session carries this one stream only and is
 * closed with it, so what a case does to its stream (a reset, GOAWAY) touches no other case.
 * HTTP/2 moves header blocks compressed in frames, not bytes a person reads: the transcript
 * records the request and the response as events.
 */
export async function openExtendedConnect(options: ExtendedConnectOptions): Promise<ExtendedConnect> {
  const { target, secure, socket, transcript, timeout } = options;
  if (secure && (socket as TLSSocket).alpnProtocol !== 'h2') {
    socket.destroy();
    throw new Error(`${target.host} did not agree to HTTP/2 by ALPN`);
  }
  const session = connectHttp2(`${secure ? 'https' : 'http'}://${target.host}`, {
    createConnection: () => socket,
    settings: { enablePush: false },
  });
  session.on('error', (error: NodeJS.ErrnoException) => transcript.event(`HTTP/2 session error: ${error.code ?? error.message}`));
  session.on('goaway', (code: number) => transcript.event(`GOAWAY received (error code ${code})`));
  try {
    await settled(session, 'remoteSettings', timeout, 'the server\'s SETTINGS');
    // RFC 8441 §3: "Upon receipt of SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1, a client
    // MAY use the Extended CONNECT as defined in this document when creating new streams."
    if (session.remoteSettings.enableConnectProtocol !== true) {
      throw new Error(`${target.host} speaks HTTP/2 but its SETTINGS do not allow extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)`);
    }
    const request = requestHeaders(options);
    transcript.event(`HTTP/2 extended CONNECT: ${describeHeaders(request)}`);
    const stream = session.request(request, { endStream: false });
    stream.once('close', () => session.close());
    const [responseHeaders] = (await settled(stream, 'response', timeout, 'a response to the extended CONNECT')) as [IncomingHttpHeaders];
    const headers: HttpHeaders = {};
    for (const [name, value] of Object.entries(responseHeaders)) {
      if (!name.startsWith(':') && value !== undefined) headers[name] = value;
    }
    const statusCode = Number(responseHeaders[':status']);
    transcript.event(`HTTP/2 response: :status ${statusCode}${Object.keys(headers).length > 0 ? `, ${describeHeaders(headers)}` : ''}`);
    if (stream.rstCode !== undefined) transcript.event(`stream reset (error code ${stream.rstCode})`);
    stream.on('aborted', () => transcript.event('stream aborted (RST_STREAM or session gone)'));
    return { stream, response: { statusCode, statusText: '', httpVersion: '2.0', headers } };
  } catch (error) {
    session.destroy();
    throw error;
  }
}

function requestHeaders(options: ExtendedConnectOptions): Record<string, string> {
  const { target, secure, protocols } = options;
  // RFC 8441 §5: "The :protocol pseudo-header field MUST be included in the CONNECT request, and
  // it MUST have a value of "websocket"". There is no Sec-WebSocket-Key: the stream is the tunnel.
  const fields: Record<string, string> = {
    ':method': options.method ?? 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': secure ? 'https' : 'http',
    ':authority': target.host,
    ':path': `${target.pathname || '/'}${target.search}`,
    'sec-websocket-version': '13',
    ...(protocols.length > 0 ? { 'sec-websocket-protocol': protocols.join(', ') } : {}),
  };
  // HTTP/2 field names are lower case (RFC 9113 §8.2.1); an override names a field in any case.
  for (const [name, value] of Object.entries(options.headers)) {
    if (value === null) delete fields[name.toLowerCase()];
    else fields[name.toLowerCase()] = value;
  }
  return fields;
}

function describeHeaders(headers: Readonly<Record<string, string | string[]>>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`)
    .join(', ');
}

interface Emitter {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Resolves with `event`'s arguments; rejects on an error, a close or the timeout first. */
function settled(source: Emitter, event: string, timeout: number, what: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      source.off(event, onEvent);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onEvent = (...args: unknown[]): void => {
      cleanup();
      resolve(args);
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error as Error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`the HTTP/2 ${event === 'response' ? 'stream' : 'session'} closed before ${what}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${what} within ${timeout} ms`));
    }, timeout);
    source.once(event, onEvent);
    source.once('error', onError);
    source.once('close', onClose);
  });
}
