import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HandshakeError, Opcode } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ControlledSocket } from '../../core/test/controlled-socket.js';
import { exchangeRaw, upgradeRequest } from '../test/raw-http.js';
import { describeFrames, readServerFrames } from '../../core/test/read-frames.js';
import { startServer } from '../test/start-server.js';
import { type ServerConnection, WebSocketServer } from './index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started<Data = undefined>(options: Parameters<typeof startServer<Data>>[0] = {}) {
  const result = await startServer<Data>(options);
  cleanups.push(() => result.server.close({ timeout: 500 }));
  return result;
}

async function httpServer(handler = 'hello over HTTP'): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => response.end(handler));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function openClient(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
  const client = new WebSocket(url, protocols, options);
  cleanups.push(() => client.terminate());
  await once(client, 'open');
  return client;
}

function echo(connection: ServerConnection<unknown>): void {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
}

async function roundTrip(client: WebSocket, text: string): Promise<string> {
  client.send(text);
  const [data] = await once(client, 'message');
  return String(data);
}

function httpGet(port: number, path = '/'): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    }).on('error', reject);
  });
}

describe('standalone', () => {
  it('listens on port 0, tells the port, echoes, and answers plain HTTP with 426', async () => {
    const { server, port, url } = await started();
    expect(port).toBeGreaterThan(0);
    let remoteAddress: string | undefined;
    server.on('connection', (connection, request) => {
      remoteAddress = connection.remoteAddress;
      expect(request.url).toBe('/path?x=1');
      echo(connection);
    });
    const client = await openClient(`${url}/path?x=1`);
    expect(await roundTrip(client, 'hello')).toBe('hello');
    expect(remoteAddress).toBe('127.0.0.1');
    expect(server.clients.size).toBe(1);

    const plain = await httpGet(port);
    expect(plain.status).toBe(426);
    expect(plain.headers['upgrade']).toBe('websocket');
    expect(plain.headers['sec-websocket-version']).toBe('13');
  });

  it('stops listening on close, after closing its connections with 1001', async () => {
    const { server, port, url } = await startServer();
    server.on('connection', echo);
    const client = await openClient(url);
    const clientClosed = once(client, 'close');
    await server.close();
    const [code] = await clientClosed;
    expect(code).toBe(1001);
    const refused = await exchangeRaw(port, upgradeRequest(), { timeout: 1_000 });
    expect(refused.status).toBe(0);
    expect(refused.ending).toBe('closed');
  });
});

describe('sharing an HTTP server', () => {
  it('serves several WebSocket paths while plain HTTP keeps working', async () => {
    const { server: http, port } = await httpServer();
    const chat = new WebSocketServer({ server: http, path: '/chat', heartbeat: false });
    const feed = new WebSocketServer({ server: http, path: '/feed', heartbeat: false });
    cleanups.push(() => chat.close(), () => feed.close());
    chat.on('connection', (connection) => connection.on('message', () => connection.send('chat')));
    feed.on('connection', (connection) => connection.on('message', () => connection.send('feed')));

    expect(await roundTrip(await openClient(`ws://127.0.0.1:${port}/chat`), 'x')).toBe('chat');
    expect(await roundTrip(await openClient(`ws://127.0.0.1:${port}/feed?since=1`), 'x')).toBe('feed');
    expect((await httpGet(port, '/chat')).body).toBe('hello over HTTP');
    expect(chat.address()).toEqual(http.address());

    const unknown = await exchangeRaw(port, upgradeRequest('/nope'));
    expect(unknown.status).toBe(404);
    expect(unknown.ending).toBe('closed');
  });

  it('refuses a second server on the same path', async () => {
    const { server: http } = await httpServer();
    const first = new WebSocketServer({ server: http, path: '/a' });
    cleanups.push(() => first.close());
    expect(() => new WebSocketServer({ server: http, path: '/a' })).toThrow(/\/a/);
  });

  it('leaves unclaimed paths to the application’s own upgrade listener', async () => {
    const { server: http, port } = await httpServer();
    const wss = new WebSocketServer({ server: http, path: '/ws' });
    cleanups.push(() => wss.close());
    const seen: string[] = [];
    http.on('upgrade', (request: IncomingMessage, socket) => {
      if (request.url === '/ws') return;
      seen.push(request.url ?? '');
      socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    expect((await exchangeRaw(port, upgradeRequest('/other'))).status).toBe(418);
    expect(seen).toEqual(['/other']);
  });

  it('detaches on close: HTTP goes on, the path is no longer served', async () => {
    const { server: http, port } = await httpServer();
    const wss = new WebSocketServer({ server: http, path: '/ws' });
    await wss.close();
    expect(http.listenerCount('upgrade')).toBe(0);
    expect((await httpGet(port)).body).toBe('hello over HTTP');
  });
});

/** A valid upgrade request as Node's `'upgrade'` event would hand it over, for in-memory sockets. */
function inMemoryUpgradeRequest(): IncomingMessage {
  return {
    method: 'GET',
    httpVersion: '1.1',
    url: '/',
    headers: {
      host: 'in-memory',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
    },
  } as unknown as IncomingMessage;
}

describe('noServer and handleUpgrade', () => {
  it('lets the application route upgrades from its own listener', async () => {
    const { server: http, port } = await httpServer();
    const wss = new WebSocketServer<{ room: string }>({
      noServer: true,
      authenticate: (request) => ({ accept: true, data: { room: request.url ?? '' } }),
    });
    cleanups.push(() => wss.close());
    http.on('upgrade', (request: IncomingMessage, socket, head) => {
      wss.handleUpgrade(request, socket, head, (connection) => {
        connection.on('message', () => connection.send(connection.data.room));
      });
    });
    expect(await roundTrip(await openClient(`ws://127.0.0.1:${port}/lobby`), 'x')).toBe('/lobby');
    expect(() => wss.address()).toThrow(/noServer/);
  });

  it('accepts any Duplex and feeds it the bytes that came with the request', async () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: false });
    cleanups.push(() => wss.close({ timeout: 100 }));
    const socket = new ControlledSocket(64 * 1024);
    const request = inMemoryUpgradeRequest();
    const head = encodeFrame({ opcode: Opcode.Text, payload: 'piped', maskKey: Buffer.from([9, 8, 7, 6]) });
    const message = new Promise<string>((resolve) => {
      wss.handleUpgrade(request, socket, head, (connection) => {
        connection.on('message', (data) => {
          connection.send(`got ${data.toString()}`);
          resolve(data.toString());
        });
      });
    });
    expect(await message).toBe('piped');
    const written = socket.bytes();
    const headEnd = written.indexOf('\r\n\r\n') + 4;
    expect(written.subarray(0, headEnd).toString()).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(describeFrames(readServerFrames(written.subarray(headEnd)))).toEqual(['text.9']);
  });

  it('answers at once without an authenticate hook, leaving a single error listener on the socket', () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: false });
    cleanups.push(() => wss.close({ timeout: 100 }));
    const socket = new ControlledSocket(64 * 1024);
    const request = inMemoryUpgradeRequest();
    let accepted: ServerConnection | undefined;
    wss.handleUpgrade(request, socket, Buffer.alloc(0), (connection) => {
      accepted = connection;
    });
    // Synchronous, as ws does: frameworks may rely on the callback having run.
    expect(accepted).toBeDefined();
    expect(socket.bytes().toString()).toMatch(/^HTTP\/1\.1 101 /);
    expect(socket.listenerCount('error')).toBe(1);
  });
});

describe('handshake errors: an HTTP answer, then the socket ends', () => {
  it.each([
    ['a missing key', upgradeRequest('/', { 'Sec-WebSocket-Key': undefined }), 400],
    ['a short key', upgradeRequest('/', { 'Sec-WebSocket-Key': 'c2hvcnQ=' }), 400],
    ['POST', upgradeRequest('/', {}, 'POST / HTTP/1.1'), 405],
    ['HTTP/1.0', upgradeRequest('/', {}, 'GET / HTTP/1.0'), 400],
    ['a missing Upgrade', upgradeRequest('/', { Upgrade: undefined, Connection: 'Upgrade' }), 426],
    ['a body', upgradeRequest('/', { 'Content-Length': '5' }) + 'hello', 400],
    ['a chunked body', upgradeRequest('/', { 'Transfer-Encoding': 'chunked' }) + '0\r\n\r\n', 400],
    ['version 8', upgradeRequest('/', { 'Sec-WebSocket-Version': '8' }), 426],
  ])('%s', async (_name, request, status) => {
    const { port } = await started();
    const answer = await exchangeRaw(port, request);
    expect(answer.status).toBe(status);
    expect(answer.ending).toBe('closed');
    if (status === 426) expect(answer.headers['sec-websocket-version']).toBe('13');
    if (status === 405) expect(answer.headers['allow']).toBe('GET');
  });

  it('answers a wrong path with 404 and reports every refusal with its code', async () => {
    const { server, port } = await started({ path: '/ws' });
    const codes: string[] = [];
    server.on('handshakeError', (error: HandshakeError) => codes.push(error.code));
    const answer = await exchangeRaw(port, upgradeRequest('/other'));
    expect(answer.status).toBe(404);
    expect(answer.ending).toBe('closed');
    await exchangeRaw(port, upgradeRequest('/ws', { 'Sec-WebSocket-Version': '7' }));
    expect(codes).toEqual(['WS_ERR_HANDSHAKE_PATH', 'WS_ERR_HANDSHAKE_VERSION']);
  });

  it('answers an origin outside the allow-list with 403', async () => {
    const { server, url, port } = await started({ allowedOrigins: ['https://app.example'] });
    server.on('connection', echo);
    expect((await exchangeRaw(port, upgradeRequest('/', { Origin: 'https://evil.example' }))).status).toBe(403);
    const client = await openClient(url, undefined, { origin: 'https://app.example' });
    expect(await roundTrip(client, 'ok')).toBe('ok');
  });

  it('lets Node answer a header flood with 431', async () => {
    const { port } = await started();
    let flood = '';
    for (let index = 0; index < 2_000; index++) flood += `X-Flood-${index}: ${'a'.repeat(20)}\r\n`;
    const request = upgradeRequest().replace('\r\n\r\n', `\r\n${flood}\r\n`);
    const answer = await exchangeRaw(port, request);
    expect(answer.status).toBe(431);
    expect(answer.ending).toBe('closed');
  });

  it('drops a client that sends half a request and stalls (slowloris)', async () => {
    const { port } = await started({ handshakeTimeout: 300 });
    const answer = await exchangeRaw(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr', { timeout: 3_000 });
    expect(answer.ending).toBe('closed');
    expect(answer.status).toBe(408);
    expect(answer.elapsed).toBeGreaterThanOrEqual(250);
  });

  it('drops a client that connects and sends nothing', async () => {
    const { port } = await started({ handshakeTimeout: 200 });
    const answer = await exchangeRaw(port, Buffer.alloc(0), { timeout: 3_000 });
    expect(answer.ending).toBe('closed');
  });

  it('reads frames pipelined right after the request (head) before anything else', async () => {
    const { server, port } = await started();
    const received = new Promise<string>((resolve) => {
      server.on('connection', (connection) => connection.on('message', (data) => resolve(data.toString())));
    });
    const frame = encodeFrame({ opcode: Opcode.Text, payload: 'early', maskKey: Buffer.from([1, 2, 3, 4]) });
    void exchangeRaw(port, Buffer.concat([Buffer.from(upgradeRequest()), frame]), { timeout: 200 });
    expect(await received).toBe('early');
  });
});

describe('hooks', () => {
  it('passes what an async authenticate accepted to the connection', async () => {
    const { server, url } = await started<{ user: string }>({
      authenticate: async (request, info) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const user = info.searchParams.get('user');
        expect(request.headers['sec-websocket-key']).toBeDefined();
        return user === null ? { accept: false } : { accept: true, data: { user } };
      },
    });
    server.on('connection', (connection) => connection.on('message', () => connection.send(connection.data.user)));
    expect(await roundTrip(await openClient(`${url}/?user=ada`), 'who')).toBe('ada');
  });

  it('rejects with the hook’s status, headers and body', async () => {
    const { port } = await started({
      authenticate: () => ({
        accept: false,
        status: 403,
        headers: { 'x-reason': 'banned' },
        body: 'you are banned',
      }),
    });
    const answer = await exchangeRaw(port, upgradeRequest());
    expect(answer.status).toBe(403);
    expect(answer.headers['x-reason']).toBe('banned');
    expect(answer.body).toBe('you are banned');
    expect(answer.ending).toBe('closed');
  });

  it('answers 408 when authenticate outlives the handshake timeout, and aborts its signal', async () => {
    let aborted: unknown;
    const { port } = await started<undefined>({
      handshakeTimeout: 200,
      authenticate: (_request, info) =>
        new Promise((resolve) => {
          info.signal.addEventListener('abort', () => {
            aborted = info.signal.reason;
            setTimeout(() => resolve({ accept: true, data: undefined }), 10);
          });
        }),
    });
    const answer = await exchangeRaw(port, upgradeRequest());
    expect(answer.status).toBe(408);
    expect(answer.ending).toBe('closed');
    expect(aborted).toBeInstanceOf(HandshakeError);
    expect((aborted as HandshakeError).code).toBe('WS_ERR_HANDSHAKE_TIMEOUT');
  });

  it('answers 500 when authenticate throws, without crashing', async () => {
    const { port } = await started({
      authenticate: () => {
        throw new Error('database down');
      },
    });
    expect((await exchangeRaw(port, upgradeRequest())).status).toBe(500);
  });

  it('selects a subprotocol and adds extra response headers', async () => {
    const { server, url } = await started({
      protocols: ['chat.v2', 'chat.v1'],
      headers: (request) => ({ 'x-request-path': request.url ?? '' }),
    });
    let serverProtocol = '';
    server.on('connection', (connection) => {
      serverProtocol = connection.protocol;
    });
    const client = new WebSocket(`${url}/room`, ['chat.v1', 'chat.v2']);
    cleanups.push(() => client.terminate());
    const upgraded = once(client, 'upgrade');
    await once(client, 'open');
    const [response] = (await upgraded) as [IncomingMessage];
    expect(client.protocol).toBe('chat.v2');
    expect(serverProtocol).toBe('chat.v2');
    expect(response.headers['x-request-path']).toBe('/room');
  });
});

describe('broadcast and shutdown', () => {
  it('broadcasts one encoded message to every client but the excluded ones', async () => {
    const { server, url } = await started<{ name: string }>({
      authenticate: (request) => ({ accept: true, data: { name: request.url!.slice(1) } }),
    });
    const clients = await Promise.all(['a', 'b', 'c'].map((name) => openClient(`${url}/${name}`)));
    const sender = [...server.clients].find((connection) => connection.data.name === 'a')!;
    const received = clients.map(
      (client) =>
        new Promise<string>((resolve) => {
          client.once('message', (data) => resolve(String(data)));
          setTimeout(() => resolve('(nothing)'), 300);
        }),
    );
    const result = server.broadcast('news', {
      except: sender,
      filter: (connection) => connection.data.name !== 'c',
    });
    expect(result).toEqual({ sent: 1, queued: 0, dropped: 0, closed: 0 });
    expect(await Promise.all(received)).toEqual(['(nothing)', 'news', '(nothing)']);
  });

  it('closes every connection with a closing handshake, destroys stragglers, and resolves when all are gone', async () => {
    const { server, port, url } = await startServer();
    const closes: [number, string, boolean][] = [];
    server.on('connection', (connection) => connection.on('close', (...args) => closes.push(args)));
    const polite = await openClient(url);
    const politeClose = once(polite, 'close');
    // A raw peer that completes the handshake and then never answers the close frame.
    const silent = exchangeRaw(port, upgradeRequest(), { timeout: 5_000 });
    while (server.clients.size < 2) await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    await server.close({ code: 1012, reason: 'restart', timeout: 300 });
    // It waited for the silent peer (a lower bound only: a busy machine may take longer).
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect((await politeClose)[0]).toBe(1012);
    expect((await silent).ending).toBe('closed');
    expect(server.clients.size).toBe(0);
    expect(closes.map(([code, reason]) => [code, reason]).sort()).toEqual([
      [1006, 'server shutdown timeout'],
      [1012, 'restart'],
    ]);
  });

  it('refuses upgrades that arrive while shutting down', async () => {
    const { server: http, port } = await httpServer();
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (request: IncomingMessage, socket, head) => wss.handleUpgrade(request, socket, head));
    await wss.close();
    expect((await exchangeRaw(port, upgradeRequest())).status).toBe(503);
  });
});
