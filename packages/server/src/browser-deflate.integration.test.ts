import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../../../scripts/vitest/chromium.js';
import { type ServerConnection, WebSocketServer } from './index.js';

/**
 * Headless Chromium against a server with permessage-deflate on: browsers offer it by default
 * (`permessage-deflate; client_max_window_bits`), so this is the compression most clients use.
 */
describe.skipIf(CHROMIUM === undefined)('headless Chromium with permessage-deflate', () => {
  let browser: Browser;
  let http: Server;
  let origin: string;
  let server: WebSocketServer;
  const connections: ServerConnection[] = [];

  beforeAll(async () => {
    http = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><title>ws deflate test</title>');
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    server = new WebSocketServer({ server: http, perMessageDeflate: true, heartbeat: false });
    server.on('connection', (connection) => {
      connections.push(connection);
      connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    });
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close({ timeout: 200 });
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('negotiates permessage-deflate and round-trips compressed text and a 262145-byte binary', async () => {
    const page = await browser.newPage();
    await page.goto(origin);
    const results = await page.evaluate(async (url) => {
      const socket = new WebSocket(url);
      socket.binaryType = 'arraybuffer';
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
      const next = () =>
        new Promise<string | ArrayBuffer>((resolve) => {
          socket.onmessage = (event) => resolve(event.data as string | ArrayBuffer);
        });
      const text = 'héllo, compressed world; '.repeat(400);
      socket.send(text);
      const textEcho = await next();
      socket.send('short');
      const shortEcho = await next();
      const seed = new Uint8Array(131072 * 2 + 1);
      for (let index = 0; index < seed.length; index++) seed[index] = index % 251 < 16 ? index % 7 : 0;
      socket.send(seed.buffer);
      const echoed = new Uint8Array((await next()) as ArrayBuffer);
      const intact = echoed.length === seed.length && echoed.every((byte, index) => byte === seed[index]);
      socket.close(1000);
      return { extensions: socket.extensions, textIntact: textEcho === text, shortEcho, intact, length: echoed.length };
    }, `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);

    expect(results.extensions).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits=15');
    expect(results.textIntact).toBe(true);
    expect(results.shortEcho).toBe('short');
    expect(results).toMatchObject({ intact: true, length: 262_145 });
    // Both directions compressed: about 280 KiB of messages each way, a few KiB on the wire.
    const socket = connections[0]!.socket as unknown as { bytesRead: number; bytesWritten: number };
    expect(socket.bytesRead).toBeLessThan(32 * 1024);
    expect(socket.bytesWritten).toBeLessThan(32 * 1024);
    await page.close();
  });
});
