import type { Buffer } from 'node:buffer';
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

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;

function malformed(message: string): HandshakeError {
  return new HandshakeError('WS_ERR_HANDSHAKE_STATUS', `Malformed handshake response: ${message}`);
}

/**
 * Parses the text of a response head (RFC 7230 §3), without its final empty line, into its
 * status and fields; throws a `HandshakeError` that names what is malformed.
 */
export function parseResponseHead(text: string, rest: Buffer): ResponseHead {
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
