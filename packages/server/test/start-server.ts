import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocketServerOptions } from '../src/index.js';

/** A standalone server on 127.0.0.1 and a free port, listening, with its ws:// URL. */
export async function startServer<Data = undefined>(
  options: Omit<WebSocketServerOptions<Data>, 'port' | 'server' | 'noServer'> = {},
): Promise<{ server: WebSocketServer<Data>; port: number; url: string }> {
  const server = new WebSocketServer<Data>({ heartbeat: false, ...options, port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `ws://127.0.0.1:${port}` };
}
