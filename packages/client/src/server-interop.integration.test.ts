import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ConnectionClosedError, HandshakeError } from '@ws/core';
import { type ServerConnection, WebSocketServer, type WebSocketServerOptions } from '@ws/server';
import { afterEach, describe, expect, test } from 'vitest';
import type { ClientConnection } from './client-connection.js';
import { type ConnectOptions, connect } from './connect.js';
import { WebSocket } from './web-socket.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An @ws/server on 127.0.0.1, port 0; `peers` collects its connections in arrival order. */
async function startServer(
  options: Omit<WebSocketServerOptions, 'port' | 'host'> = {},
  onConnection: (connection: ServerConnection) => void = () => undefined,
): Promise<{ server: WebSocketServer; url: string; peers: ServerConnection[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, heartbeat: false, ...options });
  const peers: ServerConnection[] = [];
  server.on('connection', (connection) => {
    peers.push(connection);
    onConnection(connection);
  });
  await once(server, 'listening');
  cleanups.push(() => server.close({ timeout: 100 }));
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, peers };
}

const echo = (connection: ServerConnection): void => {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
};

async function open(url: string, options?: ConnectOptions): Promise<ClientConnection> {
  const connection = await connect(url, options);
  cleanups.push(() => connection.terminate());
  return connection;
}

/** Resolves once the server has a connection for this client. */
async function peerFor(peers: ServerConnection[], index: number): Promise<ServerConnection> {
  for (let waited = 0; peers[index] === undefined && waited < 2000; waited += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return peers[index]!;
}

describe('interop with @ws/server', () => {
  test('echoes every message size class, fragmented by the server past 64 KiB', async () => {
    const { url } = await startServer({ maxMessageSize: 4 * 1024 * 1024 }, echo);
    const connection = await open(url, { fragmentSize: 16 * 1024 });
    const sizes = [0, 1, 125, 126, 65_535, 65_536, 1024 * 1024 + 3];
    const sent: (string | Buffer)[] = [];
    for (const size of sizes) {
      const text = 'ü'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
      const binary = Buffer.alloc(size, size % 253);
      connection.send(text);
      connection.send(binary);
      sent.push(text, binary);
    }
    let index = 0;
    for await (const message of connection) {
      const expected = sent[index]!;
      const same = typeof message === 'string' ? message === expected : Buffer.isBuffer(expected) && message.equals(expected);
      expect(same, `message ${index} (${expected.length} long)`).toBe(true);
      if (++index === sent.length) break;
    }
  });

  test('pings both ways: ping() measures the round trip; the server heartbeat is answered', async () => {
    const { url, peers } = await startServer({ heartbeat: { interval: 20, timeout: 500 } });
    const connection = await open(url);
    expect(await connection.ping()).toBeGreaterThan(0);
    const [ping] = await once(connection, 'ping');
    expect(Buffer.isBuffer(ping)).toBe(true);
    const peer = await peerFor(peers, 0);
    // The server's heartbeat (every 20 ms) measures a round trip: waited for, not timed.
    while (peer.latency === undefined) await new Promise((resolve) => setImmediate(resolve));
    expect(peer.latency).toBeGreaterThanOrEqual(0);
    expect(connection.readyState).toBe(1);
  });

  const closeCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];

  test.each(closeCodes)('client-initiated close with %i', async (code) => {
    const { url, peers } = await startServer();
    const connection = await open(url);
    const peer = await peerFor(peers, 0);
    const peerClosed = once(peer, 'close');
    // The reply echoes the code and the reason, as browsers and ws do.
    expect(await connection.close(code, 'client bye')).toEqual({ code, reason: 'client bye', wasClean: true });
    expect((await peerClosed).slice(0, 3)).toEqual([code, 'client bye', true]);
  });

  test.each(closeCodes)('server-initiated close with %i', async (code) => {
    const { url } = await startServer({}, (connection) => connection.close(code, 'server bye'));
    const connection = await open(url);
    expect(await connection.closed).toEqual({ code, reason: 'server bye', wasClean: true });
  });

  test('an abrupt disconnect is reported as 1006', async () => {
    const { url } = await startServer({}, (connection) => setTimeout(() => connection.terminate(), 10));
    const connection = await open(url);
    const iteration = (async () => {
      for await (const message of connection) void message;
    })().catch((error: unknown) => error);
    expect(await connection.closed).toEqual({ code: 1006, reason: '', wasClean: false });
    expect(await iteration).toBeInstanceOf(ConnectionClosedError);
  });

  test('server shutdown closes clients with 1001', async () => {
    const { server, url } = await startServer();
    const connection = await open(url);
    const closing = server.close();
    expect(await connection.closed).toMatchObject({ code: 1001, wasClean: true });
    await closing;
  });

  test('subprotocol selection, authentication refusal and acceptance', async () => {
    const { url } = await startServer({
      protocols: ['v2', 'v1'],
      authenticate: (request) =>
        request.headers.authorization === 'Bearer good'
          ? { accept: true, data: undefined }
          : { accept: false, status: 403, headers: { 'X-Reason': 'bad token' } },
    });
    const refused = await connect(url, { protocols: ['v1'], headers: { Authorization: 'Bearer bad' } }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(HandshakeError);
    expect(refused).toMatchObject({ status: 403, headers: { 'x-reason': 'bad token' } });
    const accepted = await open(url, { protocols: ['v1', 'v2'], headers: { Authorization: 'Bearer good' } });
    expect(accepted.protocol).toBe('v2');
  });

  test('a message over the server’s limit is refused with 1009', async () => {
    const { url } = await startServer({ maxMessageSize: 1000 });
    const connection = await open(url);
    connection.send(Buffer.alloc(2000));
    expect(await connection.closed).toMatchObject({ code: 1009, wasClean: true });
  });

  test('the WHATWG WebSocket talks to @ws/server', async () => {
    const { url } = await startServer({ protocols: ['chat'] }, echo);
    const socket = new WebSocket(url, ['chat']);
    cleanups.push(() => socket.close());
    socket.binaryType = 'arraybuffer';
    await once(socket, 'open');
    expect(socket.protocol).toBe('chat');
    const received: unknown[] = [];
    const both = new Promise<void>((resolve) => {
      socket.onmessage = (event) => {
        received.push(event.data);
        if (received.length === 2) resolve();
      };
    });
    socket.send('text');
    socket.send(Uint8Array.of(1, 2, 3));
    await both;
    expect(received[0]).toBe('text');
    expect([...new Uint8Array(received[1] as ArrayBuffer)]).toEqual([1, 2, 3]);
    const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) =>
      socket.addEventListener('close', (event) => resolve(event as unknown as { code: number; wasClean: boolean })),
    );
    socket.close(3001);
    expect(await closed).toMatchObject({ code: 3001, wasClean: true });
  });

  test('reconnects to @ws/server after the server drops the connection', async () => {
    const { url, peers } = await startServer({}, echo);
    const connection = await connect(url, { reconnect: { initialDelay: 10, jitter: 0 } });
    cleanups.push(() => connection.close());
    (await peerFor(peers, 0)).terminate();
    await once(connection, 'reconnected');
    connection.send('again');
    const [data] = await once(connection, 'message');
    expect(String(data)).toBe('again');
  });
});
