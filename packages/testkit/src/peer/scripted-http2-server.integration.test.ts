import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../../core/test/self-signed-certificate.js';
import { ScriptedHttp2Server } from './scripted-http2-server.js';
import { ScriptedPeer } from './scripted-peer.js';

/** The scripted HTTP/2 server, with the scripted peer as the client on the other end. */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(options: Parameters<typeof ScriptedHttp2Server.listen>[0] = {}): Promise<ScriptedHttp2Server> {
  const server = await ScriptedHttp2Server.listen(options);
  cleanups.push(() => server.close());
  return server;
}

async function client(url: string, options: Parameters<typeof ScriptedPeer.connect>[1] = {}): Promise<ScriptedPeer> {
  const peer = await ScriptedPeer.connect(url, { http2: true, ...options });
  cleanups.push(() => peer.close());
  return peer;
}

describe('ScriptedHttp2Server', () => {
  it('serves h2c: answers an extended CONNECT with 200, and frames flow both ways', { timeout: 5000 }, async () => {
    const server = await listen();
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const connecting = client(`${server.url}/chat?x=1`, { protocols: ['a', 'b'] });
    const pending = await server.nextUpgrade();
    expect(pending.target).toBe('/chat?x=1');
    expect(pending.request).toMatchObject({ method: 'CONNECT', httpVersion: '2.0' });
    expect(pending.request.headers[':protocol']).toBe('websocket');
    const peer = await pending.answer({ protocol: 'b' });
    const clientPeer = await connecting;
    expect(clientPeer.handshakeResponse).toMatchObject({ statusCode: 200, headers: { 'sec-websocket-protocol': 'b' } });
    await clientPeer.sendText('hello');
    await peer.expectMessage('hello');
    await peer.sendBinary(Uint8Array.of(1, 2, 3));
    await clientPeer.expectMessage(Uint8Array.of(1, 2, 3));
    expect(peer.transcript().map((entry) => (entry.kind === 'event' ? entry.description : ''))).toContainEqual(
      expect.stringMatching(/^HTTP\/2 request: :method: CONNECT/),
    );
  });

  it('serves h2 over TLS on a wss:// URL', { timeout: 5000 }, async () => {
    const certificate = selfSignedCertificate();
    const server = await listen({ tls: certificate });
    expect(server.url).toMatch(/^wss:\/\//);
    const connecting = client(server.url, { tls: { ca: certificate.cert } });
    const peer = await server.accept();
    await (await connecting).sendText('over TLS');
    await peer.expectMessage('over TLS');
  });

  it("refuses an invalid extended CONNECT with its status under 'valid', and sends what a function returns", { timeout: 5000 }, async () => {
    const server = await listen();
    const refused = client(server.url, { headers: { 'sec-websocket-version': '8' }, handshake: 'raw' });
    await expect(server.accept()).rejects.toThrow(/extended CONNECT is invalid/);
    expect((await refused).handshakeResponse).toMatchObject({ statusCode: 400, headers: { 'sec-websocket-version': '13' } });

    const answered = client(server.url, { handshake: 'raw' });
    await server.accept({ handshake: () => ({ ':status': 200, 'sec-websocket-extensions': 'x-never-offered' }) });
    expect((await answered).handshakeResponse?.headers['sec-websocket-extensions']).toBe('x-never-offered');
  });

  it('times out nextUpgrade; destroy() resets the stream without an answer', { timeout: 5000 }, async () => {
    const server = await listen({ timeout: 100 });
    await expect(server.nextUpgrade()).rejects.toThrow(/within 100 ms/);
    const connecting = client(server.url, { handshake: 'raw' });
    (await server.nextUpgrade({ timeout: 2000 })).destroy();
    await expect(connecting).rejects.toThrow(/closed before a response/);
  });
});
