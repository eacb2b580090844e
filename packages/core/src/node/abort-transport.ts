import type { Http2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';

/** HTTP/2 error codes (RFC 9113 §7) this module sends. */
const NO_ERROR = 0x0;
const CANCEL = 0x8;

/** An HTTP/2 stream carries its reset code; a TCP or TLS socket does not. */
function isHttp2Stream(transport: Duplex): transport is Http2Stream {
  return 'rstCode' in transport && typeof (transport as Partial<Http2Stream>).close === 'function';
}

/**
 * Destroys a WebSocket's transport without waiting for the other side to end it. A TCP or TLS
 * socket is destroyed. An HTTP/2 stream is reset first, with the error code that says why:
 *
 * - CANCEL when the WebSocket did not close cleanly (terminated, failed after a protocol error,
 *   no answer to its close frame in time). RFC 8441 §5: "Orderly TCP-level closures are
 *   represented as END_STREAM flags ([RFC7540], Section 6.1). RST exceptions are represented
 *   with the RST_STREAM frame ([RFC7540], Section 6.4) with the CANCEL error code ([RFC7540],
 *   Section 7)." RFC 9113 §7 defines CANCEL (0x08): "Used by the endpoint to indicate that the
 *   stream is no longer needed."
 * - NO_ERROR after a clean closing handshake (a close frame went each way) whose peer did not
 *   end its side of the stream: nothing went wrong, only the stream's end is not waited for.
 *   RFC 9113 §8.1 uses NO_ERROR the same way: "a server MAY request that the client abort
 *   transmission of a request without error by sending a RST_STREAM with an error code of
 *   NO_ERROR after sending a complete response".
 *
 * Node resets a stream destroyed without a code with NO_ERROR (or the session's GOAWAY code),
 * which would tell the peer an abort was an orderly end: hence `close(code)` before `destroy()`.
 * `destroy()` keeps the code given to `close()` and makes the transport `destroyed` at once, as
 * the engine expects.
 */
export function abortTransport(transport: Duplex, cleanlyClosed = false): void {
  if (transport.destroyed) return;
  if (isHttp2Stream(transport) && !transport.closed) transport.close(cleanlyClosed ? NO_ERROR : CANCEL);
  transport.destroy();
}
