import type { Buffer } from 'node:buffer';
import { once } from 'node:events';
import WebSocket from 'ws';
import type { ServerConnection, WebSocketServer } from '../src/index.js';

export interface ReceivedByPeer {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** A `ws` client and the server's side of its connection. */
export interface Peer {
  readonly client: WebSocket;
  readonly connection: ServerConnection;
  /** The next message the client receives (one already received first). */
  next(): Promise<ReceivedByPeer>;
}

/** Opens a `ws` client to `url` and waits for both sides; `cleanups` gets the client's termination. */
export async function connectPeer(
  server: WebSocketServer,
  url: string,
  cleanups: (() => unknown)[],
  options?: WebSocket.ClientOptions,
): Promise<Peer> {
  const accepted = once(server, 'connection') as Promise<[ServerConnection]>;
  const client = new WebSocket(url, options);
  cleanups.push(() => client.terminate());
  const received: ReceivedByPeer[] = [];
  const waiting: ((message: ReceivedByPeer) => void)[] = [];
  client.on('message', (data: Buffer, isBinary: boolean) => {
    const message = { data, isBinary };
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter(message);
    else received.push(message);
  });
  const [[connection]] = await Promise.all([accepted, once(client, 'open')]);
  return {
    client,
    connection,
    next: () => {
      const message = received.shift();
      return message !== undefined ? Promise.resolve(message) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
