import { once } from 'node:events';
import type * as net from 'node:net';
import { ConnectionClosedError, HandshakeError } from '@ws/core';
import { afterEach, describe, expect, test } from 'vitest';
import { type WebSocket as PeerSocket, WebSocketServer } from 'ws';
import { connect } from './connect.js';
import { type Disconnect, shouldReconnectByDefault } from './reconnect-policy.js';
import { ReconnectingConnection } from './reconnecting-connection.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TestServer {
  readonly url: string;
  readonly peers: PeerSocket[];
  /** HTTP statuses to answer the next upgrade requests with, in order; accepted once empty. */
  readonly refusals: number[];
  readonly received: string[];
  attempts: number;
}

async function startServer(): Promise<TestServer> {
  const state: TestServer = { url: '', peers: [], refusals: [], received: [], attempts: 0 };
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (_info, callback) => {
      state.attempts++;
      const status = state.refusals.shift();
      if (status === undefined) callback(true);
      else callback(false, status);
    },
  });
  server.on('connection', (socket) => {
    state.peers.push(socket);
    socket.on('message', (data) => state.received.push(String(data)));
  });
  await once(server, 'listening');
  cleanups.push(() => {
    for (const client of server.clients) client.terminate();
    return new Promise((resolve) => server.close(resolve));
  });
  return Object.assign(state, { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}` });
}

function track(connection: ReconnectingConnection): ReconnectingConnection {
  cleanups.push(() => connection.close());
  return connection;
}

/** Records the reconnect events as short strings. */
function record(connection: ReconnectingConnection): string[] {
  const events: string[] = [];
  connection.on('open', () => events.push('open'));
  connection.on('disconnect', (disconnect) => events.push(`disconnect:${disconnect.code}`));
  connection.on('reconnecting', (attempt, delay) => events.push(`reconnecting:${attempt}:${delay}`));
  connection.on('reconnected', (_connection, attempt) => events.push(`reconnected:${attempt}`));
  connection.on('close', (code) => events.push(`close:${code}`));
  return events;
}

const fast = { initialDelay: 10, factor: 2, jitter: 0, maxDelay: 1000 } as const;

describe('ReconnectingConnection', () => {
  test('reconnects after an abrupt disconnect and keeps one message stream', async () => {
    const server = await startServer();
    const connection = track(await connect(server.url, { reconnect: fast }));
    const events = record(connection);
    const iterator = connection.messages();
    server.peers[0]!.send('first');
    expect((await iterator.next()).value).toBe('first');

    const reopened = once(connection, 'reconnected');
    server.peers[0]!.terminate();
    await reopened;
    server.peers[1]!.send('second');
    expect((await iterator.next()).value).toBe('second');
    expect(events).toEqual(['disconnect:1006', 'reconnecting:1:10', 'open', 'reconnected:1']);

    await connection.close(1000);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  test('backs off exponentially up to maxDelay', async () => {
    const server = await startServer();
    server.refusals.push(503, 503, 503, 503);
    const connection = track(new ReconnectingConnection(server.url, { reconnect: { ...fast, maxDelay: 50 } }));
    const events = record(connection);
    await connection.opened;
    expect(events).toEqual([
      'disconnect:1006',
      'reconnecting:1:10',
      'disconnect:1006',
      'reconnecting:2:20',
      'disconnect:1006',
      'reconnecting:3:40',
      'disconnect:1006',
      'reconnecting:4:50',
      'open',
    ]);
    expect(server.attempts).toBe(5);

    // A connection shorter than resetAfter (5 s by default) does not reset the backoff.
    const reconnecting = once(connection, 'reconnecting');
    server.peers[0]!.terminate();
    expect((await reconnecting).slice(0, 2)).toEqual([5, 50]);
  });

  test('a connection that stayed open for resetAfter resets the backoff', async () => {
    const server = await startServer();
    server.refusals.push(503, 503);
    const connection = track(new ReconnectingConnection(server.url, { reconnect: { ...fast, resetAfter: 30 } }));
    await connection.opened;
    expect(connection.attempt).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 40));
    const reconnecting = once(connection, 'reconnecting');
    server.peers[0]!.terminate();
    expect((await reconnecting).slice(0, 2)).toEqual([1, 10]);
  });

  test('jitter takes a random share of the delay', async () => {
    const server = await startServer();
    server.refusals.push(503, 503);
    const connection = track(
      new ReconnectingConnection(server.url, { reconnect: { initialDelay: 40, factor: 3, jitter: 0.5, random: () => 1 } }),
    );
    const delays: number[] = [];
    connection.on('reconnecting', (_attempt, delay) => delays.push(delay));
    await connection.opened;
    expect(delays).toEqual([20, 60]);
  });

  test('gives up after maxAttempts; connect() rejects with the last HandshakeError', async () => {
    const server = await startServer();
    server.refusals.push(503, 503, 503, 503, 503);
    const rejected = await connect(server.url, { reconnect: { ...fast, maxAttempts: 2 } }).catch((caught: unknown) => caught);
    expect(rejected).toBeInstanceOf(HandshakeError);
    expect(rejected).toMatchObject({ status: 503 });
    expect(server.attempts).toBe(3);
  });

  test('a deliberate close() ends it for good', async () => {
    const server = await startServer();
    const connection = track(await connect(server.url, { reconnect: fast }));
    const events = record(connection);
    const peerClosed = once(server.peers[0]!, 'close');
    expect(await connection.close(1000, 'done')).toEqual({ code: 1000, reason: 'done', wasClean: true });
    expect((await peerClosed)[0]).toBe(1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual(['close:1000']);
    expect(server.attempts).toBe(1);
    expect(connection.readyState).toBe(3);
    expect(connection.send('late')).toBe('closed');
  });

  test.each([
    ['a 1008 close', (server: TestServer) => server.peers[0]!.close(1008, 'policy'), 1008],
    ['a 4xxx close', (server: TestServer) => server.peers[0]!.close(4003, 'forbidden'), 4003],
  ])('does not reconnect after %s', async (_name, refuse, code) => {
    const server = await startServer();
    const connection = track(await connect(server.url, { reconnect: fast }));
    const events = record(connection);
    const closed = connection.closed;
    refuse(server);
    expect((await closed).code).toBe(code);
    expect(events).toEqual([`disconnect:${code}`, `close:${code}`]);
    expect(server.attempts).toBe(1);
  });

  test('does not retry an HTTP 4xx refusal, but does retry 429 and 5xx', async () => {
    const server = await startServer();
    server.refusals.push(401);
    await expect(connect(server.url, { reconnect: fast })).rejects.toMatchObject({ status: 401 });
    expect(server.attempts).toBe(1);
    server.refusals.push(429, 502);
    const connection = track(await connect(server.url, { reconnect: fast }));
    expect(connection.readyState).toBe(1);
    expect(server.attempts).toBe(4);
  });

  test('shouldReconnect overrides the default policy', async () => {
    const server = await startServer();
    const seen: Disconnect[] = [];
    const connection = track(
      await connect(server.url, {
        reconnect: {
          ...fast,
          shouldReconnect: (disconnect) => {
            seen.push(disconnect);
            return true;
          },
        },
      }),
    );
    const reconnected = once(connection, 'reconnected');
    server.peers[0]!.close(4001, 'go away');
    await reconnected;
    expect(seen).toMatchObject([{ code: 4001, reason: 'go away', wasClean: true, attempt: 0 }]);
    expect(shouldReconnectByDefault(seen[0]!)).toBe(false);
  });

  test('queues sends while disconnected, within bounds, and sends them after the open listeners', async () => {
    const server = await startServer();
    const connection = track(
      await connect(server.url, { reconnect: { ...fast, initialDelay: 50, queue: { maxMessages: 3, maxBytes: 1000 } } }),
    );
    const disconnected = once(connection, 'disconnect');
    server.peers[0]!.terminate();
    await disconnected;
    expect(connection.readyState).toBe(0);
    expect(connection.send('one')).toBe('queued');
    const asyncSend = connection.sendAsync(Buffer.from('two'));
    expect(connection.send('x'.repeat(2000))).toBe('dropped');
    expect(connection.send('three')).toBe('queued');
    expect(connection.send('four')).toBe('dropped');
    expect(connection.queuedMessages).toBe(3);
    connection.once('open', (reopened) => reopened.send('auth'));
    await once(connection, 'reconnected');
    await asyncSend;
    while (server.received.length < 4) await new Promise((resolve) => setImmediate(resolve));
    expect(server.received).toEqual(['auth', 'one', 'two', 'three']);
    expect(connection.queuedMessages).toBe(0);
  });

  test('without a queue, sends while disconnected report closed; queued sends reject on close', async () => {
    const server = await startServer();
    const plain = track(await connect(server.url, { reconnect: { ...fast, initialDelay: 1000 } }));
    const disconnected = once(plain, 'disconnect');
    server.peers[0]!.terminate();
    await disconnected;
    expect(plain.send('lost')).toBe('closed');
    await expect(plain.sendAsync('lost')).rejects.toBeInstanceOf(ConnectionClosedError);
    await plain.close();

    const queued = track(await connect(server.url, { reconnect: { ...fast, initialDelay: 1000, queue: true } }));
    const queuedDisconnect = once(queued, 'disconnect');
    server.peers[1]!.terminate();
    await queuedDisconnect;
    const pending = queued.sendAsync('never');
    await queued.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test('close() while waiting to retry cancels the retry', async () => {
    const server = await startServer();
    server.refusals.push(503);
    const connection = track(new ReconnectingConnection(server.url, { reconnect: { ...fast, initialDelay: 5000 } }));
    await once(connection, 'reconnecting');
    const closed = await connection.close();
    expect(closed.code).toBe(1006);
    await expect(connection.opened).rejects.toBeInstanceOf(HandshakeError);
    expect(server.attempts).toBe(1);
  });

  test('an AbortSignal closes it for good, before or after the first connection', async () => {
    const server = await startServer();
    await expect(connect(server.url, { reconnect: fast, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'WS_ERR_HANDSHAKE_ABORTED',
    });
    const controller = new AbortController();
    const connection = track(await connect(server.url, { reconnect: fast, signal: controller.signal }));
    const closed = connection.closed;
    controller.abort();
    expect(await closed).toMatchObject({ code: 1000, wasClean: true });
    expect(server.attempts).toBe(1);
  });

  test('a heartbeat that stops getting pongs triggers a reconnect', async () => {
    const server = await startServer();
    const connection = track(await connect(server.url, { reconnect: fast, heartbeat: { interval: 20, timeout: 50 } }));
    // The first server connection stops reading, so it answers no ping; the next one does.
    server.peers[0]!.pause();
    const [disconnect] = (await once(connection, 'disconnect')) as [Disconnect];
    expect(disconnect).toMatchObject({ code: 1006, wasClean: false });
    expect(disconnect.reason).toBe('heartbeat timeout');
    await once(connection, 'reconnected');
    expect(await connection.ping()).toBeGreaterThan(0);
    expect(connection.latency).toBeGreaterThan(0);
  });
});
