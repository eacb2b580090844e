/**
 * The server role of the permessage-deflate benchmark (`deflate-bench.ts`), run in its own
 * process: an echo server with compression on, `@ws/server` or `ws`, at zlib level 1 on both.
 */
import type { Buffer } from 'node:buffer';
import { createInterface } from 'node:readline';

export const IMPLEMENTATIONS = ['ours', 'ws'] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];

/** What the server does with its own context: compress without it (our default) or keep it. */
export const ServerPolicy = { NoContextTakeover: 'no-context', ContextTakeover: 'context' } as const;
export type ServerPolicy = (typeof ServerPolicy)[keyof typeof ServerPolicy];

/**
 * Starts the echo server and prints `{"port":N}`; then each `memory` line on stdin is answered
 * with the RSS after a full GC and the connection count, one JSON line each. Exits when stdin ends.
 */
export async function serveCompressedEcho(implementation: Implementation, policy: ServerPolicy): Promise<void> {
  const keepContext = policy === ServerPolicy.ContextTakeover;
  let port: number;
  let connections: () => number;
  if (implementation === 'ws') {
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: { serverNoContextTakeover: !keepContext, zlibDeflateOptions: { level: 1 }, threshold: 1024 },
    });
    server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary })));
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as { port: number }).port;
    connections = () => server.clients.size;
  } else {
    const { WebSocketServer } = await import('@ws/server');
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { serverNoContextTakeover: !keepContext } });
    server.on('connection', (connection) => connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    port = (server.address() as { port: number }).port;
    connections = () => server.clients.size;
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line !== 'memory') return;
    globalThis.gc?.();
    process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, connections: connections() })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
}
