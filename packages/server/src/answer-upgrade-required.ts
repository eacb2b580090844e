import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a standalone server answers a plain HTTP request: 426, naming the protocol to upgrade to. */
export function answerUpgradeRequired(_request: IncomingMessage, response: ServerResponse): void {
  // RFC 7231 §6.5.15: "The server MUST send an Upgrade header field in a 426 response".
  const body = 'Upgrade Required';
  response.writeHead(426, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    connection: 'Upgrade, close',
  });
  response.end(body);
}
