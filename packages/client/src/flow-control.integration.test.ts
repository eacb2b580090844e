import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '@ws/server';
import { afterEach, expect, test } from 'vitest';
import { connect } from './connect.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test('a client uploading a burst to an @ws/server echo handler gets every echo: neither side waits on the other', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, heartbeat: false });
  cleanups.push(() => server.close({ timeout: 200 }));
  server.on('connection', (connection) => {
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  });
  await once(server, 'listening');
  const client = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  cleanups.push(() => client.terminate());
  const count = 48;
  let echoed = 0;
  const all = new Promise<void>((resolve) => client.on('message', () => ++echoed === count && resolve()));
  // The client's own upload backs up its output; it must go on reading the echoes meanwhile,
  // while the server stops reading until its echoes drain (flow control on replies only).
  for (let index = 0; index < count; index++) client.send(Buffer.alloc(1024 * 1024, index));
  await all;
  expect(echoed).toBe(count);
  expect(client.readyState).toBe(1);
});
