import { Buffer } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { generateKey, parseExtensionOffers, validateExtendedConnectResponse, validateUpgradeResponse } from '@ws/core';
import { ExpectationError } from './expectation-error.js';
import { openExtendedConnect } from './extended-connect.js';
import { type HttpResponseHead, parseResponseHead, readHttpHead } from './http-head.js';
import { Transcript } from './transcript.js';

/** Request header overrides: a string replaces or adds a field, null removes a default one. */
export type RequestHeaders = Readonly<Record<string, string | null>>;

export interface ConnectOptions {
  /** Header fields to add, replace (case-insensitively) or, with null, remove. */
  readonly headers?: RequestHeaders;
  /**
   * 'valid' (default): the response must be a correct 101 (RFC 6455 §4.1), else connect
   * rejects. 'raw': any response is accepted and left in `handshakeResponse` for the test to judge.
   */
  readonly handshake?: 'valid' | 'raw';
  /** Subprotocols to offer in Sec-WebSocket-Protocol. */
  readonly protocols?: readonly string[];
  /** Request method. Default GET. */
  readonly method?: string;
  /** HTTP version in the request line. Default "1.1". */
  readonly httpVersion?: string;
  /** Send these bytes as the whole request head instead of building one. */
  readonly request?: string | Uint8Array;
  /** Milliseconds for TCP connect plus handshake, and the expectations' default. Default 2000. */
  readonly timeout?: number;
  readonly maskKey?: Uint8Array;
  /** Options for tls.connect when the URL is wss:// (or https://). */
  readonly tls?: tls.ConnectionOptions;
  /**
   * Open the WebSocket on an HTTP/2 stream with an extended CONNECT (RFC 8441) instead of an
   * HTTP/1.1 upgrade: h2c with prior knowledge for ws:// and http://, h2 negotiated by ALPN for
   * wss:// and https://. `headers` and `protocols` apply (field names in lower case), `method`
   * replaces CONNECT, `httpVersion` and `request` do not apply. The response is valid when its
   * status is 2xx (RFC 8441 §5); frames then flow on the stream, a session of its own.
   */
  readonly http2?: boolean;
}

/** A connection whose opening handshake is done, ready to be driven frame by frame. */
export interface ClientHandshakeResult {
  /** The TCP or TLS socket, or the HTTP/2 stream. */
  readonly socket: Duplex;
  readonly transcript: Transcript;
  readonly response: HttpResponseHead;
  /** Bytes that arrived after the response head: the start of the first frames. */
  readonly rest: Buffer;
  /** Whether the server switched to WebSocket (101; 2xx over HTTP/2): frames follow. */
  readonly accepted: boolean;
}

/**
 * Opens a TCP (or TLS, for wss://) connection and performs the opening handshake as a client,
 * recording every byte. With `handshake: 'valid'` a response that is not a correct 101 rejects.
 */
export async function performClientHandshake(
  url: string | URL,
  options: ConnectOptions,
  timeout: number,
): Promise<ClientHandshakeResult> {
  const target = new URL(url);
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  if (!secure && target.protocol !== 'ws:' && target.protocol !== 'http:') {
    throw new TypeError(`Unsupported URL scheme ${target.protocol} (use ws: or wss:)`);
  }
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port) || (secure ? 443 : 80);
  const transcript = new Transcript();
  const tlsOptions = options.http2 === true ? { ALPNProtocols: ['h2'], ...options.tls } : options.tls;
  const socket = await openSocket(host, port, secure, tlsOptions, timeout);
  transcript.event(`connected to ${host}:${port}${options.http2 === true ? ' (HTTP/2)' : ''}`);
  if (options.http2 === true) return performExtendedConnect(target, secure, socket, transcript, timeout, options);
  const key = generateKey();
  const path = `${target.pathname || '/'}${target.search}`;
  const request =
    options.request ??
    buildRequest({
      method: options.method ?? 'GET',
      path,
      httpVersion: options.httpVersion ?? '1.1',
      defaults: [
        ['Host', target.host],
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', key],
        ['Sec-WebSocket-Version', '13'],
        ...(options.protocols !== undefined && options.protocols.length > 0
          ? ([['Sec-WebSocket-Protocol', options.protocols.join(', ')]] as const)
          : []),
      ],
      overrides: options.headers ?? {},
    });
  const requestBytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : Buffer.from(request);
  transcript.sent(requestBytes);
  socket.write(requestBytes);
  let head: string;
  let rest: Buffer;
  try {
    ({ head, rest } = await readHttpHead(socket, transcript, timeout));
  } catch (error) {
    socket.destroy();
    throw new ExpectationError(
      `Opening handshake: ${(error as Error).message}`,
      'an HTTP response',
      'no complete response',
      transcript.entries(),
    );
  }
  const response = parseResponseHead(head);
  if ((options.handshake ?? 'valid') === 'valid') {
    const sentKey = overriddenValue(options.headers, 'sec-websocket-key') ?? key;
    try {
      validateUpgradeResponse(
        { statusCode: response.statusCode, headers: response.headers },
        { key: sentKey, protocols: options.protocols ?? [], offeredExtensions: offeredExtensionNames(options.headers) },
      );
    } catch (error) {
      socket.destroy();
      throw new ExpectationError(
        `Opening handshake rejected: ${(error as Error).message}`,
        'a valid 101 Switching Protocols response',
        head.trim(),
        transcript.entries(),
      );
    }
  }
  return { socket, transcript, response, rest, accepted: response.statusCode === 101 };
}

/** The opening handshake over HTTP/2 (RFC 8441 §4): an extended CONNECT on a session of its own. */
async function performExtendedConnect(
  target: URL,
  secure: boolean,
  socket: net.Socket,
  transcript: Transcript,
  timeout: number,
  options: ConnectOptions,
): Promise<ClientHandshakeResult> {
  let opened;
  try {
    opened = await openExtendedConnect({
      target,
      secure,
      socket,
      transcript,
      timeout,
      headers: options.headers ?? {},
      protocols: options.protocols ?? [],
      ...(options.method === undefined ? {} : { method: options.method }),
    });
  } catch (error) {
    socket.destroy();
    throw new ExpectationError(
      `Opening handshake (HTTP/2): ${(error as Error).message}`,
      'a response to the extended CONNECT',
      'no response',
      transcript.entries(),
    );
  }
  const { stream, response } = opened;
  if ((options.handshake ?? 'valid') === 'valid') {
    try {
      validateExtendedConnectResponse(response, {
        protocols: options.protocols ?? [],
        offeredExtensions: offeredExtensionNames(options.headers),
      });
    } catch (error) {
      stream.destroy();
      throw new ExpectationError(
        `Opening handshake rejected: ${(error as Error).message}`,
        'a 2xx response to the extended CONNECT',
        `:status ${response.statusCode}`,
        transcript.entries(),
      );
    }
  }
  return {
    socket: stream,
    transcript,
    response,
    rest: Buffer.alloc(0),
    accepted: response.statusCode >= 200 && response.statusCode <= 299,
  };
}

function openSocket(
  host: string,
  port: number,
  secure: boolean,
  tlsOptions: tls.ConnectionOptions | undefined,
  timeout: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the peer decides when its side ends, so half-close can be observed and tested.
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined, ...tlsOptions })
      : net.connect({ host, port, allowHalfOpen: true });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Could not connect to ${host}:${port} within ${timeout} ms`));
    }, timeout);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}

function buildRequest(parts: {
  method: string;
  path: string;
  httpVersion: string;
  defaults: readonly (readonly [string, string])[];
  overrides: RequestHeaders;
}): string {
  const overrides = new Map(Object.entries(parts.overrides).map(([name, value]) => [name.toLowerCase(), { name, value }]));
  const lines: string[] = [];
  for (const [name, value] of parts.defaults) {
    const override = overrides.get(name.toLowerCase());
    overrides.delete(name.toLowerCase());
    if (override === undefined) lines.push(`${name}: ${value}`);
    else if (override.value !== null) lines.push(`${override.name}: ${override.value}`);
  }
  for (const { name, value } of overrides.values()) if (value !== null) lines.push(`${name}: ${value}`);
  return `${parts.method} ${parts.path} HTTP/${parts.httpVersion}\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
}

/**
 * The names of the extensions a `Sec-WebSocket-Extensions` override offers, which the server
 * may then accept (RFC 6455 §4.1: a response may only use extensions "present in the client's
 * handshake"). An override that does not parse offers nothing a server could accept.
 */
function offeredExtensionNames(headers: RequestHeaders | undefined): string[] {
  const value = overriddenValue(headers, 'sec-websocket-extensions');
  if (value === undefined) return [];
  try {
    return parseExtensionOffers(value, 'Sec-WebSocket-Extensions', { markRepeatedParams: true }).map((offer) => offer.name);
  } catch {
    return [];
  }
}

function overriddenValue(headers: RequestHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && value !== null) return value;
  return undefined;
}
