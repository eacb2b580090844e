import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { connect } from './connect.js';

// This file must stay on its own: the frame writer's shared slab then starts empty, so the
// first large frame's header is the one that opens a new slab. A header written into the old
// slab (a regression once) leaves the frame without a valid header on the wire.
test('large frames are intact when their header opens a new slab', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1024 * 1024 });
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
  });
  await once(server, 'listening');
  try {
    const connection = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const sent = ['t'.repeat(65_536), Buffer.alloc(100_000, 3), 'u'.repeat(8193)];
    for (const message of sent) connection.send(message);
    const received: (string | Buffer)[] = [];
    for await (const message of connection) {
      received.push(message);
      if (received.length === sent.length) break;
    }
    expect(received).toEqual(sent);
    await connection.close();
  } finally {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});
