import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';

const BODY = 'Upgrade Required';

/** A standalone server's answer to a plain HTTP request: it only speaks WebSocket. */
export function answerUpgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  // RFC 7231 §6.5.15: "The server MUST send an Upgrade header field in a 426 response".
  response.writeHead(426, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(BODY),
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    connection: 'Upgrade, close',
  });
  response.end(BODY);
}
