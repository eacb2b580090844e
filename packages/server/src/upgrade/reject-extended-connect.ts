import { Buffer } from 'node:buffer';
import { constants, type ServerHttp2Stream } from 'node:http2';
import { HTTP2_CONNECTION_SPECIFIC_FIELDS } from '@ws/core';
import type { UpgradeRejection } from './reject-upgrade.js';

/**
 * Answers a refused extended CONNECT on its HTTP/2 stream: the status, the extra headers HTTP/2
 * allows, a plain-text body, then the stream is closed. The session goes on: other streams and
 * WebSockets on it are not affected.
 */
export function rejectExtendedConnect(stream: ServerHttp2Stream, rejection: UpgradeRejection): void {
  stream.on('error', discard);
  if (stream.destroyed || stream.headersSent) {
    stream.destroy();
    return;
  }
  const status = Number.isInteger(rejection.status) && rejection.status >= 300 && rejection.status <= 599 ? rejection.status : 500;
  const body = rejection.body ?? (status === 500 && rejection.status !== 500 ? 'Internal Server Error' : String(status));
  const headers: Record<string, string | string[] | number> = {
    ':status': status,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  for (const [name, value] of Object.entries(rejection.headers ?? {})) {
    const lower = name.toLowerCase();
    // RFC 7540 §8.1.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing
    // connection-specific header fields"; Node would throw for them.
    if (HTTP2_CONNECTION_SPECIFIC_FIELDS.has(lower) || lower === 'content-length') continue;
    headers[lower] = typeof value === 'string' ? value : [...value];
  }
  try {
    stream.respond(headers);
  } catch {
    // A hook handed us a header Node will not write: answer plainly instead.
    stream.respond({ ':status': 500 }, { endStream: true });
    return;
  }
  // RFC 7540 §8.1: "A server can send a complete response prior to the client sending an entire
  // request ... the server MAY request that the client abort transmission of a request without
  // error by sending a RST_STREAM with an error code of NO_ERROR after sending a complete
  // response". The tunnel was refused: nothing the client sends on it means anything.
  stream.end(body, () => {
    if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
  });
}

function discard(): void {
  // A refused stream may be reset at any time; its 'close' is all that is left.
}
