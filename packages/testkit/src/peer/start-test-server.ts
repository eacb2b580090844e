import type { Buffer } from 'node:buffer';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

/** What Node's 'upgrade' event hands over. */
export type UpgradeHandler = (request: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface TestServer {
  /** ws://127.0.0.1:port (no path: append one, e.g. `${url}/chat`). */
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  /** Destroys every connection (upgraded ones too) and stops listening. */
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
}

/**
 * A plain `http.Server` on a free port whose 'upgrade' events go to `handler`: the place to
 * mount any WebSocket server under test, whatever its implementation. Without a handler, attach
 * one to `server` yourself. Plain HTTP requests are answered 426 Upgrade Required. `close()`
 * does not wait for clients to go away: it destroys what is still open, so a test always ends.
 */
export async function startTestServer(handler?: UpgradeHandler, options: TestServerOptions = {}): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'Upgrade, close' });
    response.end('Upgrade Required');
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (handler !== undefined) server.on('upgrade', handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  const urlHost = net.isIPv6(host) ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `ws://${urlHost}:${address.port}`,
    port: address.port,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
