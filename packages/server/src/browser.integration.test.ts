import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessagePieceReceived } from '@ws/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../../../scripts/vitest/chromium.js';
import { WebSocketServer } from './index.js';

/**
 * Headless Chromium as a peer: the browser path of the demo page. A browser sends a large
 * `ArrayBuffer` as several frames of one chunk size and a remainder. Chromium was once seen sending 131072,
 * 131072 and 1 bytes for `new ArrayBuffer(131072 * 2 + 1)`; Chromium 156 cuts it into 131000,
 * 131000 and 145. The test pins the shape (equal chunks of at most 128 KiB, then the rest),
 * not one browser version's chunk size; receive-modes.integration.test.ts replays the
 * exact 131072/131072/1 with the ws client.
 */
describe.skipIf(CHROMIUM === undefined)('headless Chromium as a peer', () => {
  let browser: Browser;
  let http: Server;
  let origin: string;
  let messageServer: WebSocketServer;
  let streamServer: WebSocketServer;
  const messageSizes: number[] = [];
  const frameSizes: number[] = [];
  const closes: [number, string][] = [];

  beforeAll(async () => {
    http = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><title>ws test</title>');
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    messageServer = new WebSocketServer({ server: http, path: '/message', allowedOrigins: [origin] });
    messageServer.on('connection', (connection) => {
      connection.on('message', (data, isBinary) => {
        messageSizes.push(data.length);
        if (!isBinary && data.toString() === 'close please') connection.close(4003, 'server says bye');
        else if (!isBinary && data.toString() === 'big please') connection.send(Buffer.alloc(1024 * 1024 + 7, 0x62));
        else connection.send(data, { binary: isBinary });
      });
      connection.on('close', (code, reason) => closes.push([code, reason]));
    });

    streamServer = new WebSocketServer({ server: http, path: '/stream', receiveMode: 'stream' });
    streamServer.on('connection', (connection) => {
      let current = 0;
      connection.on('piece', (piece: MessagePieceReceived) => {
        current += piece.data.length;
        if (!piece.frameEnd) return;
        frameSizes.push(current);
        current = 0;
        if (piece.messageEnd) connection.send(`frames ${frameSizes.join(',')}`);
      });
    });

    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await messageServer?.close({ timeout: 200 });
    await streamServer?.close({ timeout: 200 });
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('logs each fragment of a 262,145-byte ArrayBuffer in stream mode', async () => {
    const page = await browser.newPage();
    await page.goto(origin);
    const reply = await page.evaluate(async (url) => {
      const socket = new WebSocket(url);
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
      const answer = new Promise<string>((resolve) => {
        socket.onmessage = (event) => resolve(String(event.data));
      });
      socket.send(new ArrayBuffer(131072 * 2 + 1));
      const text = await answer;
      socket.close(1000);
      return text;
    }, `ws://127.0.0.1:${(http.address() as AddressInfo).port}/stream`);
    const [chunk = 0, ...rest] = frameSizes;
    expect(frameSizes.length).toBeGreaterThanOrEqual(2);
    expect(chunk).toBeLessThanOrEqual(131_072);
    expect(frameSizes.slice(0, -1).every((size) => size === chunk)).toBe(true);
    expect(rest.at(-1)).toBe(262_145 - chunk * (frameSizes.length - 1));
    expect(frameSizes.reduce((sum, size) => sum + size, 0)).toBe(262_145);
    expect(reply).toBe(`frames ${frameSizes.join(',')}`);
    await page.close();
  });

  it('round-trips text, binary, empty, 262,145 bytes and a fragmented 1 MiB answer; close codes both ways', async () => {
    const page = await browser.newPage();
    await page.goto(origin);
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/message`;
    const results = await page.evaluate(async (target) => {
      const open = async () => {
        const socket = new WebSocket(target);
        socket.binaryType = 'arraybuffer';
        await new Promise((resolve, reject) => {
          socket.onopen = resolve;
          socket.onerror = reject;
        });
        return socket;
      };
      const next = (socket: WebSocket) =>
        new Promise<string | ArrayBuffer>((resolve) => {
          socket.onmessage = (event) => resolve(event.data as string | ArrayBuffer);
        });
      const closed = (socket: WebSocket) =>
        new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) => {
          socket.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
        });

      const socket = await open();
      socket.send('héllo');
      const text = await next(socket);
      socket.send(new Uint8Array([1, 2, 3]));
      const binary = Array.from(new Uint8Array((await next(socket)) as ArrayBuffer));
      socket.send('');
      const empty = await next(socket);
      const seed = new Uint8Array(131072 * 2 + 1);
      seed[0] = 7;
      seed[seed.length - 1] = 9;
      socket.send(seed.buffer);
      const echoed = new Uint8Array((await next(socket)) as ArrayBuffer);
      socket.send('big please');
      const big = (await next(socket)) as ArrayBuffer;
      const clientClose = closed(socket);
      socket.close(4000, 'browser bye');
      const clientClosed = await clientClose;

      const second = await open();
      const serverClose = closed(second);
      second.send('close please');
      const serverClosed = await serverClose;
      return {
        text,
        binary,
        empty,
        seed: [echoed.length, echoed[0], echoed[echoed.length - 1]],
        bigLength: big.byteLength,
        clientClosed,
        serverClosed,
      };
    }, url);

    expect(results.text).toBe('héllo');
    expect(results.binary).toEqual([1, 2, 3]);
    expect(results.empty).toBe('');
    expect(results.seed).toEqual([262_145, 7, 9]);
    expect(messageSizes).toContain(262_145);
    expect(results.bigLength).toBe(1024 * 1024 + 7);
    expect(results.clientClosed).toMatchObject({ code: 4000, wasClean: true });
    expect(results.serverClosed).toEqual({ code: 4003, reason: 'server says bye', wasClean: true });
    await expect.poll(() => closes.map(([code]) => code).sort()).toEqual([4000, 4003]);
    await page.close();
  });
});
