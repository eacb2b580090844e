import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type * as net from 'node:net';
import { WebSocket as UndiciWebSocket } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { type WebSocket as PeerSocket, WebSocketServer } from 'ws';
import type { CloseEvent } from './close-event.js';
import { ErrorEvent } from './error-event.js';
import { WebSocket } from './web-socket.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A ws server that echoes, and obeys a few commands: `close <code> <reason>`, `terminate`,
 * `binary <length>`. Selects `chat` when offered.
 */
async function startServer(): Promise<{ url: string; peers: PeerSocket[] }> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
  });
  const peers: PeerSocket[] = [];
  server.on('connection', (socket) => {
    peers.push(socket);
    socket.on('message', (data, isBinary) => {
      const text = String(data);
      const [command, argument, ...rest] = text.split(' ');
      if (!isBinary && command === 'close') socket.close(Number(argument), rest.join(' '));
      else if (!isBinary && command === 'terminate') socket.terminate();
      else if (!isBinary && command === 'binary') socket.send(Buffer.alloc(Number(argument), 0xab));
      else socket.send(data as Buffer, { binary: isBinary });
    });
  });
  await once(server, 'listening');
  cleanups.push(() => {
    for (const client of server.clients) client.terminate();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, peers };
}

type AnyWebSocket = WebSocket | InstanceType<typeof UndiciWebSocket>;
type WebSocketClass = new (url: string, protocols?: string | string[]) => AnyWebSocket;

const implementations: [string, WebSocketClass][] = [
  ['@ws/client', WebSocket as unknown as WebSocketClass],
  ['undici (Node’s built-in)', UndiciWebSocket as unknown as WebSocketClass],
];

function track(socket: AnyWebSocket): AnyWebSocket {
  cleanups.push(() => {
    if (socket.readyState === 0 || socket.readyState === 1) socket.close();
  });
  return socket;
}

/** Every event, as `type` or `type:detail`, in dispatch order. */
function record(socket: AnyWebSocket): string[] {
  const events: string[] = [];
  socket.addEventListener('open', () => events.push(`open:${socket.readyState}`));
  socket.addEventListener('error', () => events.push(`error:${socket.readyState}`));
  socket.addEventListener('close', (event) => {
    const { code, reason, wasClean } = event as unknown as CloseEvent;
    events.push(`close:${code}:${reason}:${wasClean}:${socket.readyState}`);
  });
  return events;
}

/** The next `count` events of a type, collected from now on. */
function nextEvents<T extends Event>(socket: AnyWebSocket, type: string, count: number): Promise<T[]> {
  const events: T[] = [];
  return new Promise((resolve) => {
    const listener = (event: unknown): void => {
      events.push(event as T);
      if (events.length < count) return;
      socket.removeEventListener(type, listener);
      resolve(events);
    };
    socket.addEventListener(type, listener);
  });
}

function nextEvent<T extends Event>(socket: AnyWebSocket, type: string): Promise<T> {
  return new Promise((resolve) => socket.addEventListener(type, (event) => resolve(event as unknown as T), { once: true }));
}

describe.each(implementations)('the WHATWG interface: %s', (_name, Implementation) => {
  test('has the readyState constants on the class and on instances', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url));
    expect([Implementation as unknown as Record<string, number>].map((c) => [c.CONNECTING, c.OPEN, c.CLOSING, c.CLOSED])).toEqual([
      [0, 1, 2, 3],
    ]);
    expect([socket.CONNECTING, socket.OPEN, socket.CLOSING, socket.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(Object.prototype.toString.call(socket)).toBe('[object WebSocket]');
  });

  test('normalizes the URL and throws SyntaxError for bad URLs and protocols', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url.replace('ws:', 'http:') + '?q=1'));
    expect(socket.url).toBe(`${url}/?q=1`);
    for (const bad of [`${url}/#fragment`, 'ftp://127.0.0.1/', 'not a url']) {
      expect(() => new Implementation(bad)).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    }
    for (const protocols of [['chat', 'chat'], ['a', 'A'], ['has space'], ['']]) {
      expect(() => new Implementation(url, protocols)).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    }
  });

  test('opens, selects a protocol, throws InvalidStateError on send while CONNECTING', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url, ['other', 'chat']));
    expect(socket.readyState).toBe(0);
    expect(socket.protocol).toBe('');
    expect(socket.binaryType).toBe('blob');
    expect(() => socket.send('too early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    const events = record(socket);
    await nextEvent(socket, 'open');
    expect(events).toEqual(['open:1']);
    expect(socket.protocol).toBe('chat');
    expect(socket.extensions).toBe('');
  });

  test('delivers text as strings, binary as Blob by default and as ArrayBuffer on request', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url));
    await nextEvent(socket, 'open');
    socket.send('héllo');
    const text = await nextEvent<MessageEvent>(socket, 'message');
    expect(text.data).toBe('héllo');
    expect(text.origin).toBe(url);
    expect(Object.prototype.toString.call(text)).toBe('[object MessageEvent]');
    expect([text.lastEventId, text.source, text.ports]).toEqual(['', null, []]);

    socket.send('binary 5');
    const blob = (await nextEvent<MessageEvent>(socket, 'message')).data as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect(Buffer.from(await blob.arrayBuffer())).toEqual(Buffer.alloc(5, 0xab));

    socket.binaryType = 'arraybuffer';
    socket.send(new Uint8Array([1, 2, 3]).subarray(1));
    const arrayBuffer = (await nextEvent<MessageEvent>(socket, 'message')).data as ArrayBuffer;
    expect(arrayBuffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(arrayBuffer)]).toEqual([2, 3]);

    // The Blob is read asynchronously; what is sent after it must not overtake it.
    const both = nextEvents<MessageEvent>(socket, 'message', 2);
    socket.send(new Blob(['from a blob']));
    socket.send('after the blob');
    const [fromBlob, after] = await both;
    expect(String(Buffer.from(fromBlob!.data as ArrayBuffer))).toBe('from a blob');
    expect(after!.data).toBe('after the blob');
  });

  test('counts sent bytes in bufferedAmount until they are transmitted', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url));
    await nextEvent(socket, 'open');
    expect(socket.bufferedAmount).toBe(0);
    socket.send('héllo');
    socket.send(new Uint8Array(4));
    expect(socket.bufferedAmount).toBe(10);
    await nextEvent(socket, 'message');
    expect(socket.bufferedAmount).toBe(0);
  });

  test('close() validates its code and reason', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url));
    await nextEvent(socket, 'open');
    for (const code of [0, 999, 1001, 1005, 2999, 5000, 65_535]) {
      expect(() => socket.close(code)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    }
    expect(() => socket.close(1000, 'é'.repeat(62))).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(socket.readyState).toBe(1);
    const events = record(socket);
    socket.close(3000.4 as number, 'x'.repeat(123));
    expect(socket.readyState).toBe(2);
    socket.close(4000);
    await nextEvent(socket, 'close');
    expect(events).toEqual([`close:3000:${'x'.repeat(123)}:true:3`]);
  });

  test('close() with only a reason sends 1000; with nothing, an empty close frame (1005)', async () => {
    const { url, peers } = await startServer();
    const first = track(new Implementation(url));
    await nextEvent(first, 'open');
    const firstPeerClose = once(peers[0]!, 'close');
    first.close(undefined, 'just a reason');
    expect((await firstPeerClose)[0]).toBe(1000);

    const second = track(new Implementation(url));
    await nextEvent(second, 'open');
    const secondPeerClose = once(peers[1]!, 'close');
    const secondClose = nextEvent<CloseEvent>(second, 'close');
    second.close();
    expect((await secondPeerClose)[0]).toBe(1005);
    const closed = await secondClose;
    expect([closed.code, closed.wasClean]).toEqual([1005, true]);
  });

  test('reports a server close with its code and reason', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url));
    const events = record(socket);
    await nextEvent(socket, 'open');
    socket.send('close 4321 go away');
    const closed = await nextEvent<CloseEvent>(socket, 'close');
    expect(closed.constructor.name).toBe('CloseEvent');
    expect(Object.prototype.toString.call(closed)).toBe('[object CloseEvent]');
    expect(events).toEqual(['open:1', 'close:4321:go away:true:3']);
  });

  test('an abrupt disconnect fires error, then close with 1006', async () => {
    const { url } = await startServer();
    const socket = track(new Implementation(url));
    const events = record(socket);
    await nextEvent(socket, 'open');
    socket.send('terminate');
    await nextEvent(socket, 'close');
    expect(events).toEqual(['open:1', 'error:3', 'close:1006::false:3']);
  });

  test('a refused handshake fires error, then close with 1006', async () => {
    const socket = track(new Implementation('ws://127.0.0.1:1/'));
    const events = record(socket);
    await nextEvent(socket, 'close');
    expect(events).toEqual(['error:3', 'close:1006::false:3']);
  });
});

describe('@ws/client WebSocket beyond the reference', () => {
  // Node's built-in (undici 7) fires neither event when close() interrupts CONNECTING, and
  // re-adds a replaced event handler at the end of the listener list; both follow the spec here.
  test('close() while CONNECTING fails the connection: CLOSING, then error and close with 1006', async () => {
    const { url } = await startServer();
    const socket = track(new WebSocket(url));
    const events = record(socket);
    socket.close();
    expect(socket.readyState).toBe(2);
    await nextEvent(socket, 'close');
    expect(events).toEqual(['error:3', 'close:1006::false:3']);
  });

  test('event handler attributes keep their position, are replaced in place and removed by null', async () => {
    const { url } = await startServer();
    const socket = track(new WebSocket(url)) as WebSocket;
    const calls: string[] = [];
    socket.addEventListener('message', () => calls.push('listener 1'));
    socket.onmessage = () => calls.push('handler A');
    socket.addEventListener('message', () => calls.push('listener 2'));
    socket.onmessage = () => calls.push('handler B');
    expect(typeof socket.onmessage).toBe('function');
    await nextEvent(socket, 'open');
    socket.send('one');
    await nextEvent(socket, 'message');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['listener 1', 'handler B', 'listener 2']);
    socket.onmessage = null;
    expect(socket.onmessage).toBeNull();
    socket.send('two');
    await nextEvent(socket, 'message');
    expect(calls).toEqual(['listener 1', 'handler B', 'listener 2', 'listener 1', 'listener 2']);
  });

  test('binaryType nodebuffer delivers Buffers; an unknown binaryType is ignored (WebIDL)', async () => {
    const { url } = await startServer();
    const socket = track(new WebSocket(url)) as WebSocket;
    socket.binaryType = 'nodebuffer';
    socket.binaryType = 'bogus' as 'blob';
    expect(socket.binaryType).toBe('nodebuffer');
    await nextEvent(socket, 'open');
    socket.send('binary 3');
    const data = (await nextEvent<MessageEvent>(socket, 'message')).data as Buffer;
    expect(Buffer.isBuffer(data)).toBe(true);
    expect(data).toEqual(Buffer.alloc(3, 0xab));
  });

  test('sends after close count in bufferedAmount and never leave, as the spec says', async () => {
    const { url } = await startServer();
    const socket = track(new WebSocket(url)) as WebSocket;
    await nextEvent(socket, 'open');
    socket.close();
    socket.send('abc');
    socket.send(new Uint8Array(5));
    expect(socket.bufferedAmount).toBe(8);
    await nextEvent(socket, 'close');
    expect(socket.bufferedAmount).toBe(8);
  });

  test('the error event carries the cause; options as second argument; headers are sent', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (info: { req: { headers: Record<string, unknown> } }) => info.req.headers['x-token'] === 'ok' });
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

    const refused = track(new WebSocket(url, { headers: { 'X-Token': 'wrong' } })) as WebSocket;
    const error = await nextEvent<ErrorEvent>(refused, 'error');
    expect(error).toBeInstanceOf(ErrorEvent);
    expect(error.error).toMatchObject({ name: 'HandshakeError', code: 'WS_ERR_HANDSHAKE_STATUS', status: 401 });

    const accepted = track(new WebSocket(url, [], { headers: { 'X-Token': 'ok' } })) as WebSocket;
    await nextEvent(accepted, 'open');
    expect(accepted.readyState).toBe(1);
  });

  test('a relative URL is resolved against baseURL, and origin is sent as the Origin header', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const request = new Promise<{ url?: string; headers: Record<string, unknown> }>((resolve) => {
      server.once('connection', (_socket, message) => resolve(message));
    });
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/app/`;
    const socket = track(new WebSocket('feed?room=1', [], { baseURL: base, origin: 'https://app.example' })) as WebSocket;
    expect(socket.url).toBe(`${base.replace('http:', 'ws:')}feed?room=1`);
    await nextEvent(socket, 'open');
    expect(await request).toMatchObject({ url: '/app/feed?room=1', headers: { origin: 'https://app.example' } });
  });

  test('an AbortSignal in the options closes the socket', async () => {
    const { url } = await startServer();
    const controller = new AbortController();
    const socket = track(new WebSocket(url, { signal: controller.signal })) as WebSocket;
    const events = record(socket);
    controller.abort();
    await nextEvent(socket, 'close');
    expect(events).toEqual(['error:3', 'close:1006::false:3']);

    const early = track(new WebSocket(url, { signal: AbortSignal.abort() })) as WebSocket;
    const earlyEvents = record(early);
    expect(early.readyState).toBe(2);
    await nextEvent(early, 'close');
    expect(earlyEvents).toEqual(['error:3', 'close:1006::false:3']);
  });

  test('messages that arrive after close() was called are not delivered', async () => {
    const { url, peers } = await startServer();
    const socket = track(new WebSocket(url)) as WebSocket;
    await nextEvent(socket, 'open');
    const messages: unknown[] = [];
    socket.onmessage = (event) => messages.push(event.data);
    peers[0]!.send('before');
    await nextEvent(socket, 'message');
    socket.close();
    peers[0]!.send('after');
    await nextEvent(socket, 'close');
    expect(messages).toEqual(['before']);
  });
});
