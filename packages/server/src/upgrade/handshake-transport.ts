import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Http2ResponseHeaders } from '@ws/core';
import { rejectExtendedConnect } from './reject-extended-connect.js';
import { rejectUpgrade, type UpgradeRejection } from './reject-upgrade.js';

/** Whether the transport is an HTTP/2 stream (which answers with a header block, not bytes). */
export function isHttp2Stream(transport: Duplex): transport is ServerHttp2Stream {
  return typeof (transport as Partial<ServerHttp2Stream>).respond === 'function';
}

/** Writes an accepting answer: the 101 head on a socket, the 200 header block on an HTTP/2 stream. */
export function acceptHandshake(transport: Duplex, response: string | Http2ResponseHeaders): void {
  if (typeof response === 'string') transport.write(response);
  else (transport as ServerHttp2Stream).respond(response);
}

/** Refuses a handshake on its transport: an HTTP/1.1 response, or a response on the HTTP/2 stream. */
export function rejectHandshake(transport: Duplex, rejection: UpgradeRejection): void {
  if (isHttp2Stream(transport)) rejectExtendedConnect(transport, rejection);
  else rejectUpgrade(transport, rejection);
}

/** The TCP (or TLS) socket under a transport: its session's for an HTTP/2 stream. */
export function peerSocketOf(transport: Duplex): Partial<Socket> {
  return isHttp2Stream(transport) ? (transport.session?.socket ?? {}) : (transport as Partial<Socket>);
}
