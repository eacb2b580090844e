import type { Http2Session, Http2Stream } from 'node:http2';
import type { Connection } from './connection.js';

/** HTTP/2 error codes (RFC 7540 §7) by value, for reasons a person can read. */
const HTTP2_ERROR_NAMES: readonly string[] = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/**
 * Gives a WebSocket on an HTTP/2 stream a reason when the stream dies under it: a reset by the
 * peer (RFC 8441 §5: "RST exceptions are represented with the RST_STREAM frame ... with the
 * CANCEL error code"), a GOAWAY with an error, a session that was destroyed or failed. The
 * connection then reports 1006 with that reason, as for a TCP connection that broke. Call it
 * before `start()`, so that its `'close'` listener runs before the engine's.
 *
 * A stream that both sides ended gets no reason; a connection whose closing handshake completed
 * keeps the peer's close code and reason, and one this side terminated keeps its own reason.
 */
export function reportHttp2StreamFailure(connection: Connection, stream: Http2Stream): void {
  const session: Http2Session | undefined = stream.session;
  let failure: Error | undefined;
  let aborted = false;
  stream.on('error', (error: Error) => {
    failure ??= error;
  });
  // Node's word for a stream that closed before both sides ended it: the peer reset it, its
  // session went away, or this side destroyed it (the engine then has its own reason already).
  stream.once('aborted', () => {
    aborted = true;
  });
  stream.once('close', () => {
    const reason = http2FailureReason(stream, session, failure, aborted);
    // The stream's readable side has ended before 'close' (Node ends it on a reset too), so the
    // protocol saw an EOF already; without a close frame received, the reason is what reports.
    if (reason !== undefined) connection.terminate(reason);
  });
}

function http2FailureReason(
  stream: Http2Stream,
  session: Http2Session | undefined,
  failure: Error | undefined,
  aborted: boolean,
): string | undefined {
  if (failure !== undefined) return `HTTP/2: ${failure.message}`;
  if (session === undefined || session.destroyed) return 'HTTP/2: the session closed';
  const code = stream.rstCode;
  if (code !== undefined && code !== 0) return `HTTP/2: the stream was reset (${HTTP2_ERROR_NAMES[code] ?? code})`;
  return aborted ? 'HTTP/2: the stream was closed before both sides ended it' : undefined;
}
