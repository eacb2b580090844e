import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionClosedError, HandshakeError } from '@ws/core';
import { afterEach, describe, expect, test } from 'vitest';
import { type WebSocket as PeerSocket, WebSocketServer, type ServerOptions } from 'ws';
import type { ClientConnection } from './client-connection.js';
import { connect } from './connect.js';
import { PingTimeoutError } from '@ws/core/node';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A `ws` server on 127.0.0.1, port 0, closed after the test; resolves with it and its URL. */
async function startServer(
  options: ServerOptions = {},
  onConnection?: (socket: PeerSocket, request: http.IncomingMessage) => void,
): Promise<{ server: WebSocketServer; url: string }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  if (onConnection !== undefined) server.on('connection', onConnection);
  await once(server, 'listening');
  cleanups.push(() => closeServer(server));
  return { server, url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}` };
}

function closeServer(server: WebSocketServer): Promise<void> {
  for (const client of server.clients) client.terminate();
  return new Promise((resolve) => server.close(() => resolve()));
}

const echo = (socket: PeerSocket): void => {
  socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
};

async function open(url: string, options?: Parameters<typeof connect>[1]): Promise<ClientConnection> {
  const connection = await connect(url, options);
  cleanups.push(() => connection.terminate());
  return connection;
}

/** The next message a ws peer receives. */
function nextPeerMessage(socket: PeerSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => socket.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

/** A TCP server that accepts and never answers: the handshake waits for nothing. */
async function startSilentServer(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('connect() against the ws server', () => {
  test('echoes every message size class, text and binary, in order', async () => {
    const { url } = await startServer({ maxPayload: 4 * 1024 * 1024 }, echo);
    const connection = await open(url);
    const sizes = [0, 1, 125, 126, 127, 65_535, 65_536, 1024 * 1024 + 3];
    const sent: (string | Buffer)[] = [];
    for (const size of sizes) {
      const text = 'é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
      const binary = Buffer.alloc(size, size % 251);
      connection.send(text);
      connection.send(binary);
      sent.push(text, binary);
    }
    const received: (string | Buffer)[] = [];
    for await (const message of connection) {
      received.push(message);
      if (received.length === sent.length) break;
    }
    expect(received.map((message) => typeof message)).toEqual(sent.map((message) => typeof message));
    // Compared by value without a deep-equality walk over megabytes.
    for (const [index, message] of received.entries()) {
      const expected = sent[index]!;
      const same = typeof message === 'string' ? message === expected : Buffer.isBuffer(expected) && message.equals(expected);
      expect(same, `message ${index} (${expected.length} long)`).toBe(true);
    }
  });

  test('sends fragmented messages (fragmentSize) and assembles fragmented ones from the server', async () => {
    let peer: PeerSocket | undefined;
    const { url } = await startServer({}, (socket) => {
      peer = socket;
    });
    const connection = await open(url, { fragmentSize: 1000 });
    const payload = Buffer.alloc(10_500, 7);
    const received = nextPeerMessage(peer!);
    connection.send(payload);
    expect((await received).data).toEqual(payload);

    const iterator = connection.messages();
    peer!.send('frag', { fin: false });
    peer!.send('men', { fin: false });
    peer!.send('ted', { fin: true });
    expect(await iterator.next()).toEqual({ value: 'fragmented', done: false });

    // A fragment at a time, through the core connection's fin option.
    const streamed = nextPeerMessage(peer!);
    connection.send('one ', { fin: false });
    connection.send('two', { fin: true });
    expect(await streamed).toEqual({ data: Buffer.from('one two'), isBinary: false });
  });

  test('does not mutate the caller’s buffer when masking it', async () => {
    let peer: PeerSocket | undefined;
    const { url } = await startServer({}, (socket) => {
      peer = socket;
    });
    const connection = await open(url);
    for (const size of [10, 20_000]) {
      const payload = Buffer.alloc(size, 0x5a);
      const received = nextPeerMessage(peer!);
      connection.send(payload);
      expect((await received).data).toEqual(Buffer.alloc(size, 0x5a));
      expect(payload).toEqual(Buffer.alloc(size, 0x5a));
    }
  });

  test('ping() resolves with the round trip and sets latency; server pings are answered', async () => {
    let peer: PeerSocket | undefined;
    const { url } = await startServer({}, (socket) => {
      peer = socket;
    });
    const connection = await open(url);
    expect(connection.latency).toBeUndefined();
    const roundTrips = await Promise.all([connection.ping(), connection.ping(), connection.ping()]);
    for (const roundTrip of roundTrips) expect(roundTrip).toBeGreaterThan(0);
    expect(connection.latency).toBe(roundTrips[2]);

    const pinged = once(connection, 'ping');
    const ponged = once(peer!, 'pong');
    peer!.ping(Buffer.from('are you there'));
    expect((await pinged)[0]).toEqual(Buffer.from('are you there'));
    expect((await ponged)[0]).toEqual(Buffer.from('are you there'));
  });

  test('ping() times out with PingTimeoutError when the server does not answer', async () => {
    const { url } = await startServer({ autoPong: false });
    const connection = await open(url);
    await expect(connection.ping({ timeout: 50 })).rejects.toBeInstanceOf(PingTimeoutError);
  });

  const closeCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];

  test.each(closeCodes)('client-initiated close with %i completes the handshake', async (code) => {
    let peerClose: Promise<unknown[]> | undefined;
    const { url } = await startServer({}, (socket) => {
      peerClose = once(socket, 'close');
    });
    const connection = await open(url);
    const reason = `reason ${code} ✓`;
    const info = await connection.close(code, reason);
    expect(info).toEqual({ code, reason, wasClean: true });
    const [peerCode, peerReason] = (await peerClose!) as [number, Buffer];
    expect(peerCode).toBe(code);
    expect(peerReason.toString()).toBe(reason);
    expect(connection.readyState).toBe(3);
  });

  test.each(closeCodes)('server-initiated close with %i is reported and echoed', async (code) => {
    const { url } = await startServer({}, (socket) => socket.close(code, 'server says bye'));
    const connection = await open(url);
    const [closeCode, reason, wasClean] = await once(connection, 'close');
    expect({ closeCode, reason, wasClean }).toEqual({ closeCode: code, reason: 'server says bye', wasClean: true });
    expect(await connection.closed).toEqual({ code, reason: 'server says bye', wasClean: true });
  });

  test('a close without a code is reported as 1005 both ways', async () => {
    let peerClose: Promise<unknown[]> | undefined;
    const { url } = await startServer({}, (socket) => {
      peerClose = once(socket, 'close');
    });
    const connection = await open(url);
    expect(await connection.close()).toEqual({ code: 1005, reason: '', wasClean: true });
    expect((await peerClose!)[0]).toBe(1005);
  });

  test('close() rejects a code that may not be sent and a reason over 123 bytes', async () => {
    const { url } = await startServer();
    const connection = await open(url);
    expect(() => connection.close(1005)).toThrow(RangeError);
    expect(() => connection.close(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(connection.readyState).toBe(1);
  });

  test('iteration ends normally on a normal close and throws ConnectionClosedError otherwise', async () => {
    const { url } = await startServer({}, (socket) => {
      socket.send('last words');
      socket.close(1000);
    });
    const normal = await open(url);
    const messages: unknown[] = [];
    for await (const message of normal) messages.push(message);
    expect(messages).toEqual(['last words']);

    const { url: failingUrl } = await startServer({}, (socket) => socket.close(4001, 'not allowed'));
    const refused = await open(failingUrl);
    const error = await (async () => {
      for await (const message of refused) void message;
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error).toMatchObject({ closeCode: 4001, reason: 'not allowed', wasClean: true });
  });

  test('an abrupt disconnect closes with 1006, rejects pending pings and fails the iteration', async () => {
    let peer: PeerSocket | undefined;
    const { url } = await startServer({ autoPong: false }, (socket) => {
      peer = socket;
    });
    const connection = await open(url);
    const iteration = (async () => {
      for await (const message of connection) void message;
    })().catch((caught: unknown) => caught);
    const ping = connection.ping();
    await new Promise((resolve) => setTimeout(resolve, 20));
    peer!.terminate();
    expect(await connection.closed).toEqual({ code: 1006, reason: '', wasClean: false });
    await expect(ping).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(await iteration).toMatchObject({ closeCode: 1006, wasClean: false });
    expect(connection.send('late')).toBe('closed');
    await expect(connection.sendAsync('late')).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test('sendAsync waits for the transport to drain; drain and bufferedAmount report it', async () => {
    let peer: PeerSocket | undefined;
    const { url } = await startServer({ maxPayload: 64 * 1024 * 1024 }, (socket) => {
      peer = socket;
    });
    const connection = await open(url);
    const big = Buffer.alloc(8 * 1024 * 1024, 1);
    const received = nextPeerMessage(peer!);
    const drained = once(connection, 'drain');
    expect(connection.send(big)).toBe('queued');
    expect(connection.bufferedAmount).toBeGreaterThan(0);
    await drained;
    expect(connection.bufferedAmount).toBe(0);
    expect((await received).data.length).toBe(big.length);
    await connection.sendAsync(big);
  });

  test('offers subprotocols and sends headers, origin and URL credentials; exposes the 101 response', async () => {
    let request: http.IncomingMessage | undefined;
    const { url } = await startServer(
      { handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false) },
      (_socket, incoming) => {
        request = incoming;
      },
    );
    const withCredentials = url.replace('ws://', 'ws://user:s%40cret@');
    const connection = await open(`${withCredentials}/room/7?token=abc`, {
      protocols: ['chat.v1', 'chat.v2'],
      headers: { 'X-Trace': 'abc', Cookie: ['a=1', 'b=2'] },
      origin: 'https://app.example',
    });
    expect(connection.protocol).toBe('chat.v2');
    expect(connection.extensions).toBe('');
    expect(connection.url).toBe(`${withCredentials}/room/7?token=abc`);
    expect(connection.responseHeaders['sec-websocket-protocol']).toBe('chat.v2');
    while (request === undefined) await new Promise((resolve) => setImmediate(resolve));
    expect(request!.url).toBe('/room/7?token=abc');
    expect(request!.headers).toMatchObject({
      'x-trace': 'abc',
      origin: 'https://app.example',
      'sec-websocket-protocol': 'chat.v1, chat.v2',
      authorization: `Basic ${Buffer.from('user:s@cret').toString('base64')}`,
      host: new URL(url).host,
    });
    expect(request!.headers.cookie).toBe('a=1; b=2');
  });

  test('rejects a refusal with a HandshakeError carrying the status and headers', async () => {
    const { url } = await startServer({
      verifyClient: (_info, callback) => callback(false, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' }),
    });
    const error = await connect(url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_STATUS', status: 401 });
    expect((error as HandshakeError).headers['www-authenticate']).toBe('Bearer');
  });

  test('a refused TCP connection rejects with WS_ERR_HANDSHAKE_NETWORK', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const error = await connect(`ws://127.0.0.1:${port}`).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_NETWORK', status: 0 });
    expect((error as HandshakeError).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('handshakeTimeout bounds a server that never answers', async () => {
    const url = await startSilentServer();
    const started = performance.now();
    const error = await connect(url, { handshakeTimeout: 150 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_TIMEOUT', status: 0 });
    // Far below the 30 s default, with room for a busy machine.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  test('an AbortSignal cancels a pending connect, and an aborted one never starts', async () => {
    const url = await startSilentServer();
    const controller = new AbortController();
    const pending = connect(url, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 30);
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_ABORTED', status: 0 });
    expect((error as HandshakeError).cause).toEqual(new Error('user gave up'));
    await expect(connect(url, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'WS_ERR_HANDSHAKE_ABORTED' });
  });

  test('invalid URLs and options throw TypeError, naming what is wrong', async () => {
    await expect(connect('ftp://127.0.0.1/')).rejects.toBeInstanceOf(TypeError);
    // Checked before connecting: port 1 refuses, so a check after the handshake would report that.
    await expect(connect('ws://127.0.0.1:1/', { fragmentSize: 0 })).rejects.toThrow(/"fragmentSize"/);
    await expect(connect('ws://127.0.0.1:1/', { heartbeat: { interval: -1 } })).rejects.toThrow(/"heartbeat.interval"/);
    await expect(connect('ws://127.0.0.1:1/#x')).rejects.toBeInstanceOf(TypeError);
    await expect(connect('ws://127.0.0.1:1/', { protocols: ['a b'] })).rejects.toBeInstanceOf(TypeError);
    await expect(connect('ws://127.0.0.1:1/', { headers: { 'Sec-WebSocket-Key': 'x' } })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(connect('ws://127.0.0.1:1/', { headers: { 'X-Evil': 'a\r\nInjected: 1' } })).rejects.toBeInstanceOf(
      TypeError,
    );
  });

  test('listeners attached right after connect() see a message sent with the 101 response', async () => {
    const { url } = await startServer({}, (socket) => socket.send('welcome'));
    const connection = await open(url);
    const [data] = await once(connection, 'message');
    expect(String(data)).toBe('welcome');
  });

  test('the heartbeat measures latency and gives up on a server that stops answering', async () => {
    const { url } = await startServer({ autoPong: false });
    const silent = await open(url, { heartbeat: { interval: 20, timeout: 60 } });
    const errors: unknown[] = [];
    silent.on('error', (error) => errors.push(error));
    const [code, reason, wasClean] = await new Promise<[number, string, boolean]>((resolve) =>
      silent.on('close', (...args) => resolve(args)),
    );
    expect(errors).toMatchObject([{ code: 'WS_ERR_HEARTBEAT_TIMEOUT' }]);
    expect({ code, wasClean }).toEqual({ code: 1006, wasClean: false });
    expect(reason).toBe('heartbeat timeout');

    const { url: answeringUrl } = await startServer();
    const healthy = await open(answeringUrl, { heartbeat: { interval: 10, timeout: 1000 } });
    await once(healthy, 'pong');
    expect(healthy.readyState).toBe(1);
    expect(healthy.latency).toBeGreaterThan(0);
  });

  test('iterating pauses reading while unread bytes pass receiveHighWaterMark, and resumes when consumed', async () => {
    let peer: PeerSocket | undefined;
    const { url } = await startServer({}, (socket) => {
      peer = socket;
    });
    const connection = await open(url, { receiveHighWaterMark: 4 });
    const iterator = connection.messages();
    for (let index = 0; index < 10; index++) peer!.send(`m${index}`);
    // Three 2-byte messages unread pass the 4-byte mark: reading stops (waited for, not timed).
    while (!connection.isPaused) await new Promise((resolve) => setImmediate(resolve));
    const received: unknown[] = [];
    for (let index = 0; index < 10; index++) received.push((await iterator.next()).value);
    expect(received).toEqual(Array.from({ length: 10 }, (_, index) => `m${index}`));
    expect(connection.isPaused).toBe(false);
    await iterator.return!();
  });
});

describe('transports', () => {
  test('ws+unix: connects over a Unix socket with the request path', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ws-client-'));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const socketPath = join(directory, 'server.sock');
    const httpServer = http.createServer();
    const server = new WebSocketServer({ server: httpServer });
    let requestUrl: string | undefined;
    server.on('connection', (socket, request) => {
      requestUrl = request.url;
      echo(socket);
    });
    httpServer.listen(socketPath);
    await once(httpServer, 'listening');
    cleanups.push(async () => {
      await closeServer(server);
      await new Promise((resolve) => httpServer.close(resolve));
    });
    const connection = await open(`ws+unix:${socketPath}:/chat?room=1`);
    connection.send('over unix');
    const [data] = await once(connection, 'message');
    expect(String(data)).toBe('over unix');
    expect(requestUrl).toBe('/chat?room=1');
  });

  test('IPv6 literal URLs connect to ::1', async (context) => {
    const server = new WebSocketServer({ host: '::1', port: 0 });
    const listening = await Promise.race([
      once(server, 'listening').then(() => true),
      once(server, 'error').then(() => false),
    ]);
    if (!listening) {
      context.skip();
      return;
    }
    cleanups.push(() => closeServer(server));
    let host: string | undefined;
    server.on('connection', (socket, request) => {
      host = request.headers.host;
      echo(socket);
    });
    const port = (server.address() as net.AddressInfo).port;
    const connection = await open(`ws://[::1]:${port}/`);
    connection.send('v6');
    const [data] = await once(connection, 'message');
    expect(String(data)).toBe('v6');
    expect(host).toBe(`[::1]:${port}`);
  });

  test('createConnection supplies a custom transport', async () => {
    const { url } = await startServer({}, echo);
    const port = Number(new URL(url).port);
    let asked: unknown;
    const connection = await open('ws://custom.invalid/x', {
      createConnection: (options) => {
        asked = options;
        return net.connect(port, '127.0.0.1');
      },
    });
    connection.send('custom');
    const [data] = await once(connection, 'message');
    expect(String(data)).toBe('custom');
    expect(asked).toEqual({ host: 'custom.invalid', port: 80, socketPath: undefined, secure: false, servername: 'custom.invalid' });
  });
});
