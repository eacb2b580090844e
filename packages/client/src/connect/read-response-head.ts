import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { HandshakeError } from '@ws/core';

/** An HTTP response head: status line and header fields. */
export interface ResponseHead {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Lower-case names; a field that appeared more than once holds all its values, in order. */
  readonly headers: Record<string, string | string[]>;
  /** Bytes that arrived after the head: the first WebSocket frames, or part of a body. */
  readonly rest: Buffer;
}

/** Node's own default for `--max-http-header-size`. */
export const MAX_RESPONSE_HEAD_SIZE = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;

/**
 * Reads an HTTP/1.1 response head (RFC 7230 §3) from `socket` and leaves the socket paused,
 * so that no byte after the head is lost before the next reader attaches. Rejects with a
 * `HandshakeError` when the transport fails or closes first, when the head is malformed, when
 * it is larger than `maxSize`, or with `signal.reason` when the signal aborts.
 */
export function readResponseHead(socket: Duplex, signal: AbortSignal, maxSize = MAX_RESPONSE_HEAD_SIZE): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);

    const finish = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown): void => {
      finish();
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      // A terminator split across chunks starts at most two bytes before the new one.
      const searchFrom = Math.max(0, buffered.length - 2);
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const end = headEnd(buffered, searchFrom);
      if (end === undefined ? buffered.length > maxSize : end.headLength > maxSize) {
        fail(new HandshakeError('WS_ERR_HANDSHAKE_STATUS', `The response head exceeds ${maxSize} bytes`));
        return;
      }
      if (end === undefined) return;
      socket.pause();
      finish();
      let head: ResponseHead;
      try {
        head = parseResponseHead(buffered.toString('latin1', 0, end.headLength), buffered.subarray(end.bodyStart));
      } catch (error) {
        socket.destroy();
        reject(error);
        return;
      }
      resolve(head);
    };
    const onError = (error: Error): void => {
      fail(new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', error.message, { cause: error }));
    };
    const onEnd = (): void => {
      fail(new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', 'The connection closed before the handshake response arrived'));
    };
    const onAbort = (): void => fail(signal.reason);

    if (signal.aborted) {
      fail(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
}

/**
 * Where the head ends: after the empty line. RFC 7230 §3.5: "a recipient MAY recognize a
 * single LF as a line terminator and ignore any preceding CR", so "\n\n" ends it as well.
 */
function headEnd(buffer: Buffer, searchFrom: number): { headLength: number; bodyStart: number } | undefined {
  for (let index = searchFrom; index < buffer.length; index++) {
    if (buffer[index] !== 0x0a) continue;
    if (buffer[index + 1] === 0x0a) return { headLength: index, bodyStart: index + 2 };
    if (buffer[index + 1] === 0x0d && buffer[index + 2] === 0x0a) return { headLength: index, bodyStart: index + 3 };
  }
  return undefined;
}

function malformed(message: string): HandshakeError {
  return new HandshakeError('WS_ERR_HANDSHAKE_STATUS', `Malformed handshake response: ${message}`);
}

function parseResponseHead(text: string, rest: Buffer): ResponseHead {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const statusLine = STATUS_LINE.exec(lines[0] ?? '');
  if (statusLine === null) throw malformed(`bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 64))}`);
  const headers: Record<string, string | string[]> = {};
  let lastName: string | undefined;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // RFC 7230 §3.2.4: "A user agent that receives an obs-fold in a response message ...
      // MUST replace each received obs-fold with one or more SP octets prior to interpreting
      // the field value."
      if (lastName === undefined) throw malformed('a folded line without a field before it');
      const previous = headers[lastName]!;
      const folded = line.trim();
      if (Array.isArray(previous)) previous[previous.length - 1] += ` ${folded}`;
      else headers[lastName] = `${previous} ${folded}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon);
    // RFC 7230 §3.2.4: "No whitespace is allowed between the header field-name and colon."
    if (!TOKEN.test(name)) throw malformed(`bad header line ${JSON.stringify(line.slice(0, 64))}`);
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) throw malformed(`bad value in header ${name}`);
    lastName = name.toLowerCase();
    const existing = headers[lastName];
    if (existing === undefined) headers[lastName] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[lastName] = [existing, value];
  }
  return { statusCode: Number(statusLine[1]), statusMessage: statusLine[2] ?? '', headers, rest };
}
