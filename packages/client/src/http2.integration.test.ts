import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, createServer, type Http2SecureServer, type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HandshakeError } from '@ws/core';
import { type ServerConnection, WebSocketServer } from '@ws/server';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../core/test/self-signed-certificate.js';
import { connect, WebSocket } from './index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const certificate = selfSignedCertificate();
const ca = certificate.cert;

type AnyServer = Http2Server | Http2SecureServer | ReturnType<typeof createHttpsServer>;

async function listen(server: AnyServer): Promise<number> {
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => sessions.add(session));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const session of sessions) session.destroy();
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** A WebSocketServer on `http`, echoing, that keeps its connections and their sessions. */
function attach(http: AnyServer, options: { protocols?: string[]; perMessageDeflate?: boolean } = {}) {
  const server = new WebSocketServer({ heartbeat: false, ...options, server: http });
  const accepted: { connection: ServerConnection; httpVersion: string; session: Http2Session | undefined }[] = [];
  server.on('connection', (connection, request) => {
    accepted.push({ connection, httpVersion: request.httpVersion, session: (connection.socket as Partial<ServerHttp2Stream>).session });
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  });
  cleanups.push(() => server.close({ timeout: 200 }));
  return { server, accepted };
}

async function echoOf(connection: { send(data: string): unknown; once(event: 'message', listener: (data: Buffer) => void): unknown }, text: string) {
  const reply = new Promise<string>((resolve) => connection.once('message', (data) => resolve(String(data))));
  connection.send(text);
  return reply;
}

describe('connect() over HTTP/2 (RFC 8441)', () => {
  it('http2: true opens h2c for ws: and h2 for wss:, with subprotocol and permessage-deflate', async () => {
    const h2c = createServer();
    const plain = attach(h2c);
    const h2cPort = await listen(h2c);
    const overH2c = await connect(`ws://127.0.0.1:${h2cPort}/a`, { http2: true });
    cleanups.push(() => overH2c.terminate());
    expect(overH2c.httpVersion).toBe('2.0');
    expect(await echoOf(overH2c, 'h2c')).toBe('h2c');
    expect(plain.accepted[0]?.httpVersion).toBe('2.0');

    const h2 = createSecureServer({ ...certificate });
    const secure = attach(h2, { protocols: ['chat'], perMessageDeflate: true });
    const h2Port = await listen(h2);
    const overH2 = await connect(`wss://127.0.0.1:${h2Port}/b`, { http2: true, ca, protocols: ['chat'], perMessageDeflate: true });
    cleanups.push(() => overH2.terminate());
    expect([overH2.httpVersion, overH2.protocol]).toEqual(['2.0', 'chat']);
    expect(overH2.extensions).toMatch(/^permessage-deflate/);
    expect(await echoOf(overH2, 'x'.repeat(1000))).toBe('x'.repeat(1000));
    expect(secure.accepted[0]?.httpVersion).toBe('2.0');
  });

  it("http2: 'auto' uses h2 when the server allows extended CONNECT, HTTP/1.1 otherwise", async () => {
    const h2 = createSecureServer({ ...certificate, allowHTTP1: true });
    attach(h2);
    const h2Port = await listen(h2);
    const viaH2 = await connect(`wss://127.0.0.1:${h2Port}`, { http2: 'auto', ca });
    cleanups.push(() => viaH2.terminate());
    expect(viaH2.httpVersion).toBe('2.0');

    // Speaks h2, but its SETTINGS do not allow extended CONNECT: the upgrade goes over HTTP/1.1.
    const noExtendedConnect = createSecureServer({ ...certificate, allowHTTP1: true });
    const behind = new WebSocketServer({ heartbeat: false, noServer: true });
    cleanups.push(() => behind.close({ timeout: 200 }));
    noExtendedConnect.on('upgrade', (request, socket, head) => behind.handleUpgrade(request, socket, head));
    behind.on('connection', (connection) => connection.on('message', (data) => connection.send(data)));
    const fallbackPort = await listen(noExtendedConnect);
    const fellBack = await connect(`wss://127.0.0.1:${fallbackPort}`, { http2: 'auto', ca });
    cleanups.push(() => fellBack.terminate());
    expect(fellBack.httpVersion).toBe('1.1');
    expect(await echoOf(fellBack, 'upgraded')).toBe('upgraded');

    // An HTTPS server without HTTP/2 at all.
    const https = createHttpsServer({ ...certificate });
    attach(https);
    const httpsPort = await listen(https);
    const http1 = await connect(`wss://127.0.0.1:${httpsPort}`, { http2: 'auto', ca });
    cleanups.push(() => http1.terminate());
    expect(http1.httpVersion).toBe('1.1');

    await expect(connect(`wss://127.0.0.1:${fallbackPort}`, { http2: true, ca })).rejects.toThrow(/extended CONNECT/);
  });

  it('WebSockets to one origin share one session; closing one leaves the others', async () => {
    const h2 = createSecureServer({ ...certificate });
    const { accepted } = attach(h2);
    const port = await listen(h2);
    const connections = await Promise.all([1, 2, 3].map(() => connect(`wss://127.0.0.1:${port}`, { http2: true, ca })));
    for (const connection of connections) cleanups.push(() => connection.terminate());
    expect(accepted).toHaveLength(3);
    expect(new Set(accepted.map(({ session }) => session)).size).toBe(1);

    const [first, second, third] = connections as [(typeof connections)[0], (typeof connections)[0], (typeof connections)[0]];
    expect(await first.close(1000, 'done')).toEqual({ code: 1000, reason: 'done', wasClean: true });
    expect(await echoOf(second, 'still')).toBe('still');
    const fourth = await connect(`wss://127.0.0.1:${port}`, { http2: true, ca });
    cleanups.push(() => fourth.terminate());
    expect(accepted[3]?.session === accepted[0]?.session).toBe(true);
    expect(await echoOf(third, 'on')).toBe('on');
  });

  it('a destroyed session or a GOAWAY with an error ends its WebSockets with 1006 and a reason', async () => {
    const h2 = createServer();
    const { accepted } = attach(h2);
    const port = await listen(h2);
    const connections = await Promise.all([1, 2].map(() => connect(`ws://127.0.0.1:${port}`, { http2: true })));
    const closed = Promise.all(connections.map((connection) => connection.closed));
    accepted[0]?.session?.destroy();
    for (const info of await closed) {
      expect(info.code).toBe(1006);
      expect(info.reason).toMatch(/^HTTP\/2: /);
    }

    const again = await connect(`ws://127.0.0.1:${port}`, { http2: true });
    expect(accepted[2]?.session === accepted[0]?.session).toBe(false);
    const goneAway = again.closed;
    accepted[2]?.session?.goaway(2);
    const info = await goneAway;
    expect(info.code).toBe(1006);
    expect(info.reason).toMatch(/^HTTP\/2: /);
  });

  it('a refused extended CONNECT rejects with its status', async () => {
    const h2 = createServer();
    const server = new WebSocketServer({ heartbeat: false, server: h2, path: '/chat' });
    cleanups.push(() => server.close({ timeout: 200 }));
    const port = await listen(h2);
    const refused = await connect(`ws://127.0.0.1:${port}/other`, { http2: true }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HandshakeError);
    expect(refused).toMatchObject({ code: 'WS_ERR_HANDSHAKE_STATUS', status: 404 });
  });

  it('reconnects over a new session when the old one dies', async () => {
    const h2 = createServer();
    const { accepted } = attach(h2);
    const port = await listen(h2);
    const connection = await connect(`ws://127.0.0.1:${port}`, { http2: true, reconnect: { initialDelay: 10, jitter: 0 } });
    cleanups.push(() => connection.close());
    const reconnected = once(connection, 'reconnected');
    accepted[0]?.session?.destroy();
    await reconnected;
    expect(accepted[1]?.httpVersion).toBe('2.0');
    const reply = once(connection, 'message');
    connection.send('after');
    expect(String((await reply)[0])).toBe('after');
  });

  it('the WHATWG WebSocket takes the same option', async () => {
    const h2 = createServer();
    const { accepted } = attach(h2);
    const port = await listen(h2);
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { http2: true });
    cleanups.push(() => socket.close());
    await once(socket, 'open');
    expect(accepted[0]?.httpVersion).toBe('2.0');
    const reply = once(socket, 'message');
    socket.send('whatwg');
    expect(String((await reply)[0].data)).toBe('whatwg');
    await expect(connect(`ws://127.0.0.1:${port}`, { http2: 'yes' as never })).rejects.toThrow(TypeError);
  });
});
