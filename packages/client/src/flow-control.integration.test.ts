import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type ServerConnection, WebSocketServer } from '@ws/server';
import { afterEach, expect, test } from 'vitest';
import type { ClientConnection } from './client-connection.js';
import { connect } from './connect.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What a stalled exchange looks like from both ends, for the failure message. */
function describeEnds(client: ClientConnection, server: ServerConnection | undefined, echoed: number): string {
  const end = (connection: ClientConnection | ServerConnection) => {
    const socket = connection.socket;
    return (
      `readyState ${connection.readyState}, bufferedAmount ${connection.bufferedAmount}, paused ${connection.isPaused}, ` +
      `socket written ${(socket as Partial<{ bytesWritten: number }>).bytesWritten}, writableLength ${socket.writableLength}, ` +
      `writableNeedDrain ${socket.writableNeedDrain}, readableFlowing ${socket.readableFlowing}, readableLength ${socket.readableLength}`
    );
  };
  return `${echoed} echoes; client: ${end(client)}; server: ${server === undefined ? 'no connection' : end(server)}`;
}

test('a client uploading a burst to an @ws/server echo handler gets every echo: neither side waits on the other', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, heartbeat: false });
  cleanups.push(() => server.close({ timeout: 200 }));
  let serverEnd: ServerConnection | undefined;
  const serverClosed: string[] = [];
  server.on('connection', (connection) => {
    serverEnd = connection;
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    connection.on('close', (code, reason) => serverClosed.push(`${code} ${reason}`));
  });
  await once(server, 'listening');
  // Well within the test's own timeout: a handshake that never completes is named as such.
  const client = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { handshakeTimeout: 10_000 });
  cleanups.push(() => client.terminate());
  const count = 48;
  const firstBytes: number[] = [];
  let settled = false;
  // Runs first among the cleanups, before either end is closed: a stall is described as it stood.
  cleanups.push(() => {
    if (!settled) console.error(`flow control stalled: ${describeEnds(client, serverEnd, firstBytes.length)}`);
  });
  const all = new Promise<void>((resolve, reject) => {
    client.on('message', (data) => {
      firstBytes.push((data as Buffer)[0]!);
      if ((data as Buffer).length !== 1024 * 1024) reject(new Error(`An echo of ${(data as Buffer).length} bytes`));
      if (firstBytes.length === count) resolve();
    });
    // A close from either end is a failure of its own, named as such rather than as a timeout.
    client.on('close', (code, reason) => {
      reject(new Error(`Closed with ${code} ${reason} after ${firstBytes.length} echoes (server saw: ${serverClosed.join(', ')})`));
    });
  });
  // The client's own upload backs up its output; it must go on reading the echoes meanwhile,
  // while the server stops reading until its echoes drain (flow control on replies only).
  for (let index = 0; index < count; index++) client.send(Buffer.alloc(1024 * 1024, index));
  await all.finally(() => (settled = true));
  expect(firstBytes).toEqual(Array.from({ length: count }, (_, index) => index));
  expect(client.readyState).toBe(1);
});
