import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { createSecureServer, createServer, type Http2SecureServer, type Http2Server, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { selfSignedCertificate } from '../../core/test/self-signed-certificate.js';
import { closePayload, Opcode, openRawWebSocket, openSession } from '../test/raw-http2.js';
import { type ServerConnection, WebSocketServer, type WebSocketServerOptions } from './index.js';
import type { WebSocketRequest } from './upgrade/web-socket-request.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Http2Server | Http2SecureServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** An h2c server (or h2 over TLS with `secure`) with a WebSocketServer attached that echoes. */
async function start(options: Omit<WebSocketServerOptions, 'server' | 'port' | 'noServer'> = {}, secure = false) {
  const certificate = selfSignedCertificate();
  // Over TLS the application also serves pages through the compatibility API, as a site would.
  const http2 = secure
    ? createSecureServer({ ...certificate, allowHTTP1: true }, (_request, response) => response.end('a page'))
    : createServer();
  const sessions = new Set<{ destroy(): void }>();
  http2.on('session', (session) => sessions.add(session));
  const server = new WebSocketServer({ heartbeat: false, ...options, server: http2 });
  const connections: { connection: ServerConnection; request: WebSocketRequest }[] = [];
  server.on('connection', (connection, request) => {
    connections.push({ connection, request });
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  });
  const port = await listen(http2);
  cleanups.push(async () => {
    await server.close({ timeout: 200 });
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => http2.close(resolve));
  });
  const origin = `${secure ? 'https' : 'http'}://127.0.0.1:${port}`;
  return { http2, server, port, origin, connections, ca: certificate.cert };
}

async function session(origin: string, ca?: string): Promise<ClientHttp2Session> {
  const opened = await openSession(origin, ca === undefined ? {} : { ca });
  cleanups.push(() => opened.destroy());
  return opened;
}

describe('WebSockets over HTTP/2 (RFC 8441), h2c', () => {
  it('turns on SETTINGS_ENABLE_CONNECT_PROTOCOL and accepts an extended CONNECT with 200 and no accept key', async () => {
    const { origin, connections } = await start({ protocols: ['chat'] });
    const client = await session(origin);
    expect(client.remoteSettings.enableConnectProtocol).toBe(true);
    const socket = await openRawWebSocket(client, '/room?x=1', { 'sec-websocket-protocol': 'other, chat', origin: 'http://a.example' });
    expect(socket.status).toBe(200);
    expect(socket.headers['sec-websocket-protocol']).toBe('chat');
    expect(socket.headers['sec-websocket-accept']).toBeUndefined();

    socket.send(Opcode.Text, 'hello');
    socket.send(Opcode.Binary, Buffer.from([1, 2, 3]));
    const [text, binary] = await socket.frames(2);
    expect(text?.opcode).toBe(Opcode.Text);
    expect(String(text?.payload)).toBe('hello');
    expect(binary?.opcode).toBe(Opcode.Binary);
    expect([...(binary?.payload ?? [])]).toEqual([1, 2, 3]);

    const [{ connection, request }] = connections as [(typeof connections)[0]];
    expect(request.httpVersion).toBe('2.0');
    expect(request.method).toBe('CONNECT');
    expect(request.url).toBe('/room?x=1');
    expect(request.headers[':protocol']).toBe('websocket');
    expect(request.headers.origin).toBe('http://a.example');
    expect(connection.protocol).toBe('chat');
    expect(connection.remoteAddress).toBe('127.0.0.1');
  });

  it('refuses with the status of each failed check, on the stream only: the session goes on', async () => {
    const { origin, connections } = await start({
      path: '/chat',
      allowedOrigins: ['https://good.example'],
      authenticate: (request) =>
        request.headers.authorization === 'yes' ? { accept: true, data: undefined } : { accept: false, status: 401, body: 'who are you' },
    });
    const client = await session(origin);
    const good = { origin: 'https://good.example', authorization: 'yes' };
    const version = await openRawWebSocket(client, '/chat', { ...good, 'sec-websocket-version': '8' });
    expect(version.status).toBe(400);
    expect(version.headers['sec-websocket-version']).toBe('13');
    expect((await openRawWebSocket(client, '/chat', { ...good, origin: 'https://evil.example' })).status).toBe(403);
    expect((await openRawWebSocket(client, '/elsewhere', good)).status).toBe(404);
    expect((await openRawWebSocket(client, '/chat', { origin: good.origin })).status).toBe(401);
    expect((await openRawWebSocket(client, '/chat', { ...good, ':protocol': 'webtransport' })).status).toBe(501);

    const accepted = await openRawWebSocket(client, '/chat', good);
    expect(accepted.status).toBe(200);
    expect(connections).toHaveLength(1);
    expect(client.destroyed).toBe(false);
  });

  it('negotiates permessage-deflate as over HTTP/1.1', async () => {
    const { origin, connections } = await start({ perMessageDeflate: true });
    const socket = await openRawWebSocket(await session(origin), '/', { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' });
    expect(socket.status).toBe(200);
    expect(socket.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
    expect(connections[0]?.connection.extensions).toMatch(/^permessage-deflate/);
  });

  it('runs many WebSockets on one session; closing one ends its stream, not the session', async () => {
    const { origin, server, connections } = await start();
    const client = await session(origin);
    const sockets = await Promise.all([1, 2, 3].map(() => openRawWebSocket(client)));
    expect(server.clients.size).toBe(3);
    const result = server.broadcast('to all');
    expect(result.sent).toBe(3);
    for (const socket of sockets) expect(String((await socket.frames(1))[0]?.payload)).toBe('to all');

    const [first, second] = sockets as [(typeof sockets)[0], (typeof sockets)[0]];
    const closed = connections[0]!.connection.closed;
    const streamClosed = once(first.stream, 'close');
    first.send(Opcode.Close, closePayload(1000, 'bye'));
    const [echo] = await first.frames(1);
    expect(echo?.opcode).toBe(Opcode.Close);
    first.stream.end();
    expect(await closed).toEqual({ code: 1000, reason: 'bye', wasClean: true });
    await streamClosed;
    expect(first.stream.rstCode).toBe(0);

    second.send(Opcode.Text, 'still here');
    expect(String((await second.frames(1))[0]?.payload)).toBe('still here');
    expect(client.destroyed).toBe(false);
    expect(server.clients.size).toBe(2);
  });

  it('echoes a close frame the client sent with END_STREAM right behind it (as Chromium does)', async () => {
    const { origin, connections } = await start();
    const socket = await openRawWebSocket(await session(origin));
    socket.send(Opcode.Close, closePayload(1000, 'half'));
    socket.stream.end();
    const [echo] = await socket.frames(1);
    expect([echo?.opcode, echo?.payload.readUInt16BE(0)]).toEqual([Opcode.Close, 1000]);
    expect(await connections[0]!.connection.closed).toEqual({ code: 1000, reason: 'half', wasClean: true });
  });

  it('a large message crosses HTTP/2 flow control whole', async () => {
    const { origin } = await start();
    const socket = await openRawWebSocket(await session(origin));
    const payload = Buffer.alloc(262_145, 7);
    socket.send(Opcode.Binary, payload);
    const frames = await socket.frames(Math.ceil(payload.length / (128 * 1024)));
    expect(Buffer.concat(frames.map((frame) => frame.payload)).equals(payload)).toBe(true);
  });

  it('a reset stream ends its WebSocket with 1006 and a reason; the others live on', async () => {
    const { origin, connections } = await start();
    const client = await session(origin);
    const [reset, other] = await Promise.all([openRawWebSocket(client), openRawWebSocket(client)]);
    const closed = connections[0]!.connection.closed;
    reset!.stream.close(8);
    expect(await closed).toEqual({ code: 1006, reason: 'HTTP/2: the stream was reset (CANCEL)', wasClean: false });
    other!.send(Opcode.Text, 'ok');
    expect(String((await other!.frames(1))[0]?.payload)).toBe('ok');
  });

  it('a destroyed session ends all its WebSockets with 1006 and a reason', async () => {
    const { origin, connections, server } = await start();
    const client = await session(origin);
    await Promise.all([openRawWebSocket(client), openRawWebSocket(client)]);
    const closed = Promise.all(connections.map(({ connection }) => connection.closed));
    client.destroy();
    for (const info of await closed) {
      expect(info.code).toBe(1006);
      expect(info.reason).toMatch(/^HTTP\/2: /);
    }
    expect(server.clients.size).toBe(0);
  });

  it('a GOAWAY with an error ends the WebSockets with 1006 and its reason', async () => {
    const { origin, connections } = await start();
    const client = await session(origin);
    await openRawWebSocket(client);
    const closed = connections[0]!.connection.closed;
    client.goaway(2);
    const info = await closed;
    expect(info.code).toBe(1006);
    expect(info.reason).toMatch(/^HTTP\/2: .*2/);
  });

  it('server.close() closes each WebSocket with 1001 and ends its stream', async () => {
    const { origin, server } = await start();
    const socket = await openRawWebSocket(await session(origin));
    const closing = server.close();
    const [close] = await socket.frames(1);
    expect(close?.opcode).toBe(Opcode.Close);
    expect(close?.payload.readUInt16BE(0)).toBe(1001);
    socket.send(Opcode.Close, close?.payload);
    socket.stream.end();
    await closing;
  });
});

describe('WebSockets over HTTP/2 with TLS (h2) and HTTP/1.1 on the same port', () => {
  it('accepts h2 extended CONNECT and HTTP/1.1 upgrades side by side', async () => {
    const { origin, port, connections, ca } = await start({}, true);
    const socket = await openRawWebSocket(await session(origin, ca));
    expect(socket.status).toBe(200);
    socket.send(Opcode.Text, 'over h2');
    expect(String((await socket.frames(1))[0]?.payload)).toBe('over h2');

    const http1 = new WebSocket(`wss://127.0.0.1:${port}/`, { ca });
    cleanups.push(() => http1.terminate());
    await once(http1, 'open');
    http1.send('over HTTP/1.1');
    const [data] = await once(http1, 'message');
    expect(String(data)).toBe('over HTTP/1.1');
    expect(connections.map(({ request }) => request.httpVersion)).toEqual(['2.0', '1.1']);
  });

  it('leaves the application its pages, and plain CONNECT its 405, with the compatibility API on', async () => {
    const { origin, ca } = await start({}, true);
    const client = await session(origin, ca);
    const page = client.request({ ':path': '/' });
    const [headers] = (await once(page, 'response')) as [Record<string, unknown>];
    let body = '';
    page.setEncoding('utf8');
    page.on('data', (chunk: string) => (body += chunk));
    await once(page, 'end');
    expect([headers[':status'], body]).toEqual([200, 'a page']);

    const tunnel = client.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    const [tunnelHeaders] = (await once(tunnel, 'response')) as [Record<string, unknown>];
    expect(tunnelHeaders[':status']).toBe(405);
    expect((await openRawWebSocket(client)).status).toBe(200);
  });
});
