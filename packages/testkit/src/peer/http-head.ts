import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { Transcript } from './transcript.js';

/** Header fields by lower-case name; a repeated field is an array, as Node's `headersDistinct` is not. */
export type HttpHeaders = Record<string, string | string[]>;

export interface HttpRequestHead {
  readonly method: string;
  /** The request target as sent, e.g. "/runCase?case=1&agent=ws". */
  readonly target: string;
  /** e.g. "1.1", as Node's `IncomingMessage.httpVersion`. */
  readonly httpVersion: string;
  readonly headers: HttpHeaders;
}

export interface HttpResponseHead {
  readonly statusCode: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly headers: HttpHeaders;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Largest head accepted before the peer gives up on finding its end. */
const MAX_HEAD_BYTES = 64 * 1024;

function parseHeaderLines(lines: readonly string[]): HttpHeaders {
  const headers: HttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SyntaxError(`Malformed header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

/** Parses "GET /path HTTP/1.1\r\nName: value\r\n…" (the blank line may be left off). */
export function parseRequestHead(text: string): HttpRequestHead {
  const [requestLine = '', ...headerLines] = text.replace(/\r\n\r\n$/, '').split('\r\n');
  const match = /^(\S+) (\S+) HTTP\/(\d+\.\d+)$/.exec(requestLine);
  if (match === null) throw new SyntaxError(`Malformed request line ${JSON.stringify(requestLine)}`);
  return { method: match[1]!, target: match[2]!, httpVersion: match[3]!, headers: parseHeaderLines(headerLines) };
}

/** Parses "HTTP/1.1 101 Switching Protocols\r\nName: value\r\n…". */
export function parseResponseHead(text: string): HttpResponseHead {
  const [statusLine = '', ...headerLines] = text.replace(/\r\n\r\n$/, '').split('\r\n');
  const match = /^HTTP\/(\d+\.\d+) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (match === null) throw new SyntaxError(`Malformed status line ${JSON.stringify(statusLine)}`);
  return {
    httpVersion: match[1]!,
    statusCode: Number(match[2]),
    statusText: match[3] ?? '',
    headers: parseHeaderLines(headerLines),
  };
}

/** The first value of a header field, or undefined. */
export function headerValue(headers: HttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads an HTTP head (through the blank line) from a socket, recording every byte. Resolves
 * with the head as text and whatever arrived after it; the socket is left paused with no
 * 'data' listener, so that the next owner loses nothing.
 */
export function readHttpHead(
  socket: Duplex,
  transcript: Transcript,
  timeout: number,
  initial: Buffer = Buffer.alloc(0),
): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = initial;
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const fail = (message: string) => {
      cleanup();
      reject(new Error(message));
    };
    const onData = (chunk: Buffer) => {
      transcript.received(chunk);
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      check();
    };
    const check = () => {
      const end = buffered.indexOf(HEAD_END);
      if (end === -1) {
        if (buffered.length > MAX_HEAD_BYTES) fail(`No end of the HTTP head within ${MAX_HEAD_BYTES} bytes`);
        return;
      }
      cleanup();
      socket.pause();
      resolve({ head: buffered.subarray(0, end + 4).toString('latin1'), rest: buffered.subarray(end + 4) });
    };
    const onEnd = () => {
      transcript.event('end of stream');
      fail(`The connection closed before a complete HTTP head arrived (${buffered.length} bytes read)`);
    };
    const onError = (error: Error) => {
      transcript.event(`socket error: ${error.message}`);
      fail(`Socket error while reading the HTTP head: ${error.message}`);
    };
    const timer = setTimeout(() => fail(`No complete HTTP head within ${timeout} ms`), timeout);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
    check();
  });
}
