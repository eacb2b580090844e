/**
 * A bare echo server for the benchmark, one implementation per process:
 *   tsx src/echo-server.ts ours|ws
 * Prints `{"port":N}` once listening; answers a line `memory` on stdin with `{"rss":N,"connections":N}`.
 */
import { createInterface } from 'node:readline';

const implementation = process.argv[2];

async function start(): Promise<{ port: number; connections: () => number }> {
  if (implementation === 'ws') {
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * 1024 * 1024, perMessageDeflate: false });
    server.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
    });
    await new Promise((resolve) => server.once('listening', resolve));
    return { port: (server.address() as { port: number }).port, connections: () => server.clients.size };
  }
  const { WebSocketServer } = await import('@ws/server');
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxMessageSize: 64 * 1024 * 1024, maxFrameSize: 64 * 1024 * 1024 });
  server.on('connection', (connection) => {
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { port: (server.address() as { port: number }).port, connections: () => server.clients.size };
}

const { port, connections } = await start();
process.stdout.write(`${JSON.stringify({ port })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'memory') {
    globalThis.gc?.();
    process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, connections: connections() })}\n`);
  }
});
process.stdin.on('end', () => process.exit(0));
