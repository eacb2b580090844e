import type { Duplex } from 'node:stream';
import { buildRejectResponse, type OutgoingHeaders } from '@ws/core';

/** An HTTP answer refusing an upgrade. */
export interface UpgradeRejection {
  /** 300-599, e.g. 400, 401, 403, 404, 426, 503. */
  readonly status: number;
  readonly headers?: OutgoingHeaders | undefined;
  /** Plain text; defaults to the reason phrase. */
  readonly body?: string | undefined;
}

/**
 * How long a refused client may keep its side open after our response (and FIN) went out. Its
 * bytes are read and discarded meanwhile, because closing a socket with unread input makes the
 * kernel send RST, which can destroy our response before the client reads it.
 */
const REJECT_LINGER = 1_000;

function discard(): void {
  // Input after a refused handshake (a request body, pipelined bytes) means nothing.
}

/**
 * Writes a complete HTTP error response on a socket whose upgrade is refused, half-closes it,
 * and makes sure it is destroyed: when the client closes its side, or after a short linger.
 * The refused socket never hangs, whatever the client does.
 */
export function rejectUpgrade(socket: Duplex, rejection: UpgradeRejection): void {
  socket.on('error', discard);
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let response: string;
  try {
    response = buildRejectResponse({ status: rejection.status, headers: rejection.headers, body: rejection.body });
  } catch {
    // A hook handed us a status or header that cannot be written: answer plainly instead.
    response = buildRejectResponse({ status: 500 });
  }
  socket.on('data', discard);
  socket.resume();
  socket.end(response);
  const timer = setTimeout(() => socket.destroy(), REJECT_LINGER);
  timer.unref?.();
  socket.once('close', () => clearTimeout(timer));
  // Once both sides have ended there is nothing left to wait for (a socket that allows
  // half-open connections, as an HTTP server's do, does not destroy itself on 'end').
  socket.once('end', () => socket.destroy());
}
