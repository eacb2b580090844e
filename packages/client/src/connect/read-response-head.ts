import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { HandshakeError } from '@ws/core';
import type { ResponseHead } from './parse-response-head.js';
import { type ResponseHeadLimits, ResponseHeadParser } from './response-head-parser.js';

/**
 * Reads the final HTTP/1.1 response head (RFC 7230 §3) from `socket`, skipping interim 1xx
 * responses, and leaves the socket paused, so that no byte after the head is lost before the
 * next reader attaches. Rejects with a `HandshakeError` when the transport fails or closes
 * first, when a head is malformed, when the answer breaks `limits` (`ResponseHeadParser`), or
 * with `signal.reason` when the signal aborts.
 */
export function readResponseHead(socket: Duplex, signal: AbortSignal, limits?: ResponseHeadLimits): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    const parser = new ResponseHeadParser(limits);

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
      let head: ResponseHead | undefined;
      try {
        head = parser.push(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (head === undefined) return;
      socket.pause();
      finish();
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
