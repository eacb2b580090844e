import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import * as net from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WebSocketServer as OurServer } from '@ws/server';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketError } from './web-socket-error.js';
import { WebSocketStream, type WebSocketStreamOptions } from './web-socket-stream.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The server side of one connection, whichever server runs it. */
interface Peer {
  readonly received: (string | Buffer)[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(data: string | Buffer): void;
  close(code: number, reason: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  readonly bufferedAmount: number;
}

interface TestServer {
  readonly url: string;
  /** The peer of the next connection (in arrival order). */
  peer(index: number): Promise<Peer>;
}

/**
 * A server that selects the `chat` subprotocol, echoes every message as it came (text or
 * binary), and keeps what it received.
 */
type StartServer = () => Promise<TestServer>;

function collect(onConnection: (listener: (peer: Peer) => void) => void): (index: number) => Promise<Peer> {
  const peers: Peer[] = [];
  const waiters: (() => void)[] = [];
  onConnection((peer) => {
    peers.push(peer);
    for (const wake of waiters.splice(0)) wake();
  });
  return async (index) => {
    while (peers[index] === undefined) await new Promise<void>((resolve) => waiters.push(resolve));
    return peers[index]!;
  };
}

const startOurServer: StartServer = async () => {
  // The server queues whatever the test sends it (a slow client must not make it close).
  const server = new OurServer({
    host: '127.0.0.1',
    port: 0,
    heartbeat: false,
    protocols: ['chat'],
    onBackpressure: 'wait',
    maxBufferedAmount: 256 * 1024 * 1024,
  });
  await once(server, 'listening');
  cleanups.push(() => server.close({ timeout: 100 }));
  const peer = collect((add) =>
    server.on('connection', (connection) => {
      const received: (string | Buffer)[] = [];
      connection.on('message', (data, isBinary) => {
        received.push(isBinary ? data : data.toString());
        connection.send(data, { binary: isBinary });
      });
      add({
        received,
        closed: new Promise((resolve) => connection.once('close', (code, reason) => resolve({ code, reason }))),
        send: (data) => void connection.send(data),
        close: (code, reason) => void connection.close(code, reason),
        terminate: () => connection.terminate(),
        pause: () => connection.pause(),
        resume: () => connection.resume(),
        get bufferedAmount() {
          return connection.bufferedAmount;
        },
      });
    }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, peer };
};

const startWsServer: StartServer = async () => {
  const server = new WsServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  cleanups.push(() => {
    for (const client of server.clients) client.terminate();
    return new Promise((resolve) => server.close(resolve));
  });
  const peer = collect((add) =>
    server.on('connection', (socket) => {
      const received: (string | Buffer)[] = [];
      socket.on('message', (data, isBinary) => {
        received.push(isBinary ? (data as Buffer) : String(data));
        socket.send(data, { binary: isBinary });
      });
      add({
        received,
        closed: new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
        send: (data) => socket.send(data),
        close: (code, reason) => socket.close(code, reason),
        terminate: () => socket.terminate(),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
      });
    }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, peer };
};

function open(url: string, options: WebSocketStreamOptions = {}): WebSocketStream {
  const stream = new WebSocketStream(url, options);
  cleanups.push(() => stream.close());
  return stream;
}

/** Options that make the client's TCP socket here, so that a test can watch it. */
function watchedSocket(): { options: WebSocketStreamOptions; socket: () => net.Socket } {
  let socket: net.Socket | undefined;
  return {
    options: { createConnection: ({ host, port }) => (socket = net.connect({ host, port })) },
    socket: () => socket!,
  };
}

/**
 * Waits until `sample()` stayed the same for 20 turns of the event loop in a row, or `stop()`
 * holds; returns the last sample.
 */
async function settle(sample: () => number, stop: () => boolean): Promise<number> {
  let value = sample();
  for (let unchanged = 0; unchanged < 20 && !stop(); ) {
    await nextTurn();
    const next = sample();
    unchanged = next === value ? unchanged + 1 : 0;
    value = next;
  }
  return value;
}

/** Waits, turn by turn of the event loop, until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await nextTurn();
}

describe.each([
  ['@ws/server', startOurServer],
  ['ws', startWsServer],
])('WebSocketStream against %s', (_name, startServer) => {
  test('opens with the protocol, sends and receives text and binary messages', async () => {
    const server = await startServer();
    const stream = open(`${server.url}/feed`, { protocols: ['chat'] });
    const { readable, writable, protocol, extensions } = await stream.opened;
    expect([stream.url, protocol, extensions]).toEqual([`${server.url}/feed`, 'chat', '']);
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('héllo');
    await writer.write(new Uint8Array([1, 2, 3, 4]).subarray(1, 3));
    await writer.write(new Float32Array([1.5]).buffer);
    await writer.write(42 as unknown as string);
    const messages = [];
    for (let index = 0; index < 4; index++) messages.push((await reader.read()).value);
    expect(messages).toEqual(['héllo', new Uint8Array([2, 3]), new Uint8Array(new Float32Array([1.5]).buffer), '42']);
    // A binary message is a plain Uint8Array whose buffer is its own, not a Node Buffer.
    expect(Object.getPrototypeOf(messages[1])).toBe(Uint8Array.prototype);
    expect((messages[1] as Uint8Array).buffer.byteLength).toBe(2);
    const peer = await server.peer(0);
    expect(peer.received).toEqual(['héllo', Buffer.from([2, 3]), Buffer.from(new Float32Array([1.5]).buffer), '42']);
  });

  test('carries a large message each way', async () => {
    const server = await startServer();
    const { readable, writable } = await open(server.url).opened;
    const text = 'ü'.repeat(1.5 * 1024 * 1024);
    const binary = Buffer.alloc(4 * 1024 * 1024 + 3, 0x5a);
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write(text);
    await writer.write(binary);
    expect((await reader.read()).value).toBe(text);
    expect(Buffer.from((await reader.read()).value as Uint8Array).equals(binary)).toBe(true);
  });

  test('a slow reader stops reading its socket, and the server’s output backs up until it reads', async () => {
    const server = await startServer();
    const watched = watchedSocket();
    const { readable } = await open(server.url, { ...watched.options, readableHighWaterMark: 2 }).opened;
    const peer = await server.peer(0);
    const count = 64;
    const message = Buffer.alloc(1024 * 1024, 0x42);
    for (let index = 0; index < count; index++) peer.send(message);
    peer.send('end');
    // Nobody reads: once the readable holds two messages, the client stops reading its socket.
    // Without that, it would read all 64 MiB, and the server would drain.
    const bytesRead = await settle(() => watched.socket().bytesRead, () => peer.bufferedAmount === 0);
    expect(bytesRead).toBeLessThan((count * message.length) / 2);
    expect(watched.socket().isPaused()).toBe(true);
    expect(peer.bufferedAmount).toBeGreaterThan(0);
    const reader = readable.getReader();
    for (let index = 0; index < count; index++) expect((await reader.read()).value).toHaveLength(message.length);
    expect((await reader.read()).value).toBe('end');
    await until(() => peer.bufferedAmount === 0);
  });

  test('write() resolves as the socket takes the messages: a server that does not read holds the writer back', async () => {
    const server = await startServer();
    const watched = watchedSocket();
    const { readable, writable } = await open(server.url, watched.options).opened;
    void readable.pipeTo(new WritableStream()).catch(() => undefined);
    const peer = await server.peer(0);
    peer.pause();
    const count = 64;
    const message = new Uint8Array(1024 * 1024);
    const writer = writable.getWriter();
    let written = 0;
    const writes = Array.from({ length: count }, () => writer.write(message).then(() => written++));
    await until(() => watched.socket().writableNeedDrain);
    for (let turn = 0; turn < 10; turn++) await nextTurn();
    expect(written).toBeLessThan(count);
    expect(writer.desiredSize).toBeLessThanOrEqual(0);
    peer.resume();
    await Promise.all(writes);
    await until(() => peer.received.length === count);
  });

  test('close() sends its code and reason; closed resolves with the server’s, the streams end', async () => {
    const server = await startServer();
    const stream = open(server.url);
    const { readable, writable } = await stream.opened;
    stream.close({ closeCode: 3456, reason: 'pizza' });
    expect(await stream.closed).toEqual({ closeCode: 3456, reason: 'pizza' });
    expect(await (await server.peer(0)).closed).toEqual({ code: 3456, reason: 'pizza' });
    expect(await readable.getReader().read()).toEqual({ value: undefined, done: true });
    await expect(writable.getWriter().write('late')).rejects.toMatchObject({ name: 'InvalidStateError' });
  });

  test.each([
    ['close()', 1005, '', (stream: WebSocketStream) => stream.close()],
    ['close({ reason })', 1000, 'bye', (stream: WebSocketStream) => stream.close({ reason: 'bye' })],
  ])('%s closes cleanly with %i', async (_label, code, reason, close) => {
    const server = await startServer();
    const stream = open(server.url);
    await stream.opened;
    close(stream);
    expect(await stream.closed).toEqual({ closeCode: code, reason });
    expect(await (await server.peer(0)).closed).toEqual({ code, reason });
  });

  test('closing the writable closes cleanly, and writer.close() waits for the closing handshake', async () => {
    const server = await startServer();
    const stream = open(server.url);
    const { writable } = await stream.opened;
    let closedFirst = false;
    void stream.closed.then(() => (closedFirst = true));
    await writable.getWriter().close();
    expect(closedFirst).toBe(true);
    expect(await (await server.peer(0)).closed).toEqual({ code: 1005, reason: '' });
  });

  test.each([
    ['aborting the writable', (info: { writable: WritableStream }, reason: unknown) => info.writable.abort(reason)],
    ['canceling the readable', (info: { readable: ReadableStream }, reason: unknown) => info.readable.cancel(reason)],
  ])('%s closes with a WebSocketError’s code and reason, and without a code otherwise', async (_label, end) => {
    const server = await startServer();
    const first = open(server.url);
    await end(await first.opened, new WebSocketError('stop', { closeCode: 4000, reason: 'game over' }));
    expect(await first.closed).toEqual({ closeCode: 4000, reason: 'game over' });
    const second = open(server.url);
    await end(await second.opened, { closeCode: 3456, reason: 'ignored' });
    expect(await second.closed).toEqual({ closeCode: 1005, reason: '' });
  });

  test('a server close delivers what came before it, then ends the readable', async () => {
    const server = await startServer();
    const stream = open(server.url);
    const { readable } = await stream.opened;
    const peer = await server.peer(0);
    peer.send('last words');
    peer.send(Buffer.from('last bytes'));
    peer.close(4001, 'done');
    const messages: (string | Uint8Array)[] = [];
    for await (const message of readable) messages.push(message);
    expect(messages).toEqual(['last words', new Uint8Array(Buffer.from('last bytes'))]);
    expect(await stream.closed).toEqual({ closeCode: 4001, reason: 'done' });
  });

  test('an abnormal close errors both streams and rejects closed with a WebSocketError (1006)', async () => {
    const server = await startServer();
    const stream = open(server.url);
    const { readable, writable } = await stream.opened;
    (await server.peer(0)).terminate();
    const error = await stream.closed.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(WebSocketError);
    expect(error).toMatchObject({ name: 'WebSocketError', closeCode: 1006, reason: '' });
    await expect(readable.getReader().read()).rejects.toBe(error);
    await expect(writable.getWriter().write('too late')).rejects.toBe(error);
  });

  test('an abort after the connection opened does nothing', async () => {
    const server = await startServer();
    const controller = new AbortController();
    const stream = open(server.url, { signal: controller.signal });
    const { readable, writable } = await stream.opened;
    controller.abort();
    await writable.getWriter().write('still here');
    expect((await readable.getReader().read()).value).toBe('still here');
  });
});

describe('WebSocketStream handshakes', () => {
  test('a refused handshake rejects opened and closed with WebSocketErrors caused by the HandshakeError', async () => {
    const server = new WsServer({ host: '127.0.0.1', port: 0, verifyClient: () => false });
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const stream = open(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const opened = await stream.opened.catch((error: unknown) => error);
    expect(opened).toBeInstanceOf(WebSocketError);
    expect(opened).toMatchObject({ closeCode: null, cause: expect.objectContaining({ name: 'HandshakeError', status: 401 }) });
    await expect(stream.closed).rejects.toMatchObject({ name: 'WebSocketError', closeCode: 1006 });
  });

  test('aborting the signal during the handshake rejects both promises with its reason and drops the socket', async () => {
    const silent = net.createServer();
    const accepted = new Promise<net.Socket>((resolve) => silent.once('connection', resolve));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    cleanups.push(() => new Promise((resolve) => silent.close(resolve)));
    const controller = new AbortController();
    const stream = open(`ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { signal: controller.signal });
    const socket = await accepted;
    const dropped = once(socket, 'close');
    socket.resume();
    controller.abort();
    await expect(stream.opened).rejects.toMatchObject({ name: 'AbortError' });
    await expect(stream.closed).rejects.toMatchObject({ name: 'AbortError' });
    await dropped;
  });
});
