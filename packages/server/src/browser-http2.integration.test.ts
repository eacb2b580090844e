import { once } from 'node:events';
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../../../scripts/vitest/chromium.js';
import { selfSignedCertificate } from '../../core/test/self-signed-certificate.js';
import { WebSocketServer } from './index.js';

/**
 * Headless Chromium loads a page over HTTPS with HTTP/2 and opens a WebSocket to the same
 * origin: Chromium then uses the HTTP/2 session it already has, with an extended CONNECT
 * (RFC 8441), since the server's SETTINGS allow it.
 */
const PAGE = `<!doctype html><title>h2</title><script>
window.run = async () => {
  const socket = new WebSocket('wss://' + location.host + '/ws');
  socket.binaryType = 'arraybuffer';
  const received = [];
  const next = () => new Promise((resolve) => socket.addEventListener('message', (event) => resolve(event.data), { once: true }));
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  socket.send('hello over h2');
  received.push(await next());
  socket.send(new Uint8Array([1, 2, 3]));
  received.push(Array.from(new Uint8Array(await next())));
  socket.send(new ArrayBuffer(262145));
  received.push((await next()).byteLength);
  const closed = new Promise((resolve) => { socket.onclose = (event) => resolve([event.code, event.reason, event.wasClean]); });
  socket.close(1000, 'done');
  received.push(await closed);
  return received;
};
</script>`;

describe.skipIf(CHROMIUM === undefined)('headless Chromium over HTTP/2 (RFC 8441)', () => {
  let browser: Browser | undefined;
  let http2: Http2SecureServer | undefined;
  let server: WebSocketServer | undefined;
  const sessions = new Set<Http2Session>();

  afterEach(async () => {
    await browser?.close();
    await server?.close({ timeout: 200 });
    for (const session of sessions) session.destroy();
    if (http2 !== undefined) await new Promise((resolve) => http2?.close(resolve));
  });

  it('opens a WebSocket on the page\'s HTTP/2 session: text, binary, 262,145 bytes, a clean close', async () => {
    http2 = createSecureServer({ ...selfSignedCertificate(), allowHTTP1: true }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE);
    });
    http2.on('session', (session: Http2Session) => sessions.add(session));
    server = new WebSocketServer({ server: http2, path: '/ws' });
    const seen: { httpVersion: string; closed?: Promise<unknown> }[] = [];
    server.on('connection', (connection, request) => {
      seen.push({ httpVersion: request.httpVersion, closed: connection.closed });
      connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    });
    http2.listen(0, '127.0.0.1');
    await once(http2, 'listening');
    const origin = `https://127.0.0.1:${(http2.address() as AddressInfo).port}`;

    browser = await launchChromium();
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    const received = await page.evaluate(() => (globalThis as unknown as { run(): Promise<unknown[]> }).run());
    expect(received).toEqual(['hello over h2', [1, 2, 3], 262_145, [1000, 'done', true]]);
    expect(seen.map(({ httpVersion }) => httpVersion)).toEqual(['2.0']);
    expect(await seen[0]?.closed).toEqual({ code: 1000, reason: 'done', wasClean: true });
  });
});
