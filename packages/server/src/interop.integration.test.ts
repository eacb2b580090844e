import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { WebSocket as UndiciWebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../test/start-server.js';
import type { ServerConnection, WebSocketServer } from './index.js';

interface Received {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** The same cases run against two real clients through this small common interface. */
interface TestClient {
  send(data: string | Uint8Array): void;
  nextMessage(): Promise<Received>;
  close(code?: number, reason?: string): void;
  readonly closed: Promise<{ code: number; reason: string }>;
}

class MessageQueue {
  readonly #messages: Received[] = [];
  readonly #waiters: ((message: Received) => void)[] = [];
  push(message: Received): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(message);
    else this.#messages.push(message);
  }
  next(): Promise<Received> {
    const message = this.#messages.shift();
    if (message !== undefined) return Promise.resolve(message);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

async function wsClient(url: string): Promise<TestClient & { raw: WebSocket }> {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  const queue = new MessageQueue();
  socket.on('message', (data: Buffer, isBinary) => queue.push({ data, isBinary }));
  const closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  await once(socket, 'open');
  return {
    raw: socket,
    send: (data) => socket.send(data),
    nextMessage: () => queue.next(),
    close: (code, reason) => socket.close(code, reason),
    closed,
  };
}

async function undiciClient(url: string): Promise<TestClient> {
  const socket = new UndiciWebSocket(url);
  socket.binaryType = 'arraybuffer';
  const queue = new MessageQueue();
  socket.addEventListener('message', (event) => {
    const data = event.data as string | ArrayBuffer;
    queue.push(
      typeof data === 'string'
        ? { data: Buffer.from(data, 'utf8'), isBinary: false }
        : { data: Buffer.from(data), isBinary: true },
    );
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }));
  });
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', reject);
  });
  return {
    send: (data) => socket.send(data),
    nextMessage: () => queue.next(),
    close: (code, reason) => socket.close(code, reason),
    closed,
  };
}

let server: WebSocketServer;
let url: string;
const serverSide = new Map<string, ServerConnection>();
const closeEvents = new Map<string, Promise<[number, string, boolean]>>();

beforeAll(async () => {
  ({ server, url } = await startServer({ fragmentSize: 64 * 1024, maxMessageSize: 32 * 1024 * 1024 }));
  server.on('connection', (connection, request) => {
    const name = new URL(request.url ?? '/', 'ws://x').searchParams.get('name') ?? '';
    serverSide.set(name, connection);
    closeEvents.set(name, new Promise((resolve) => connection.on('close', (...args) => resolve(args))));
    connection.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close me') connection.close(4002, 'done');
      else connection.send(data, { binary: isBinary });
    });
  });
});

afterAll(async () => {
  await server.close({ timeout: 500 });
});

const clients = [
  ['ws', wsClient],
  ['undici (Node’s built-in WebSocket)', undiciClient],
] as const;

let sequence = 0;

describe.each(clients)('with the %s client', (_label, connect) => {
  const open = async () => {
    const name = `client-${++sequence}`;
    const client = await connect(`${url}/?name=${name}`);
    return { client, name, connection: serverSide.get(name)! };
  };

  it('echoes text, Unicode and empty text', async () => {
    const { client } = await open();
    for (const text of ['hello', 'héllo ✓ 日本 🎉', '']) {
      client.send(text);
      const message = await client.nextMessage();
      expect(message.isBinary).toBe(false);
      expect(message.data.toString('utf8')).toBe(text);
    }
    client.close();
  });

  it.each([0, 1, 125, 126, 65_535, 65_536, 200_000])('echoes a %i-byte binary message byte for byte', async (size) => {
    const { client } = await open();
    const payload = randomBytes(size);
    client.send(payload);
    const message = await client.nextMessage();
    expect(message.isBinary).toBe(true);
    expect(message.data.equals(payload)).toBe(true);
    client.close();
  });

  it('echoes a 16 MiB message (sent back in 64 KiB fragments)', async () => {
    const { client } = await open();
    const payload = randomBytes(16 * 1024 * 1024);
    client.send(payload);
    const message = await client.nextMessage();
    expect(message.data.length).toBe(payload.length);
    expect(message.data.equals(payload)).toBe(true);
    client.close();
  });

  it('answers the server’s ping, which measures nothing until the heartbeat does', async () => {
    const { client, connection } = await open();
    const pong = once(connection, 'pong');
    void connection.ping({ data: 'are you there' });
    const [data] = await pong;
    expect(String(data)).toBe('are you there');
    client.close();
  });

  it('reports the close code and reason the client sent', async () => {
    const { client, name } = await open();
    client.close(4001, 'bye');
    // The server echoes the code (RFC 6455 §5.5.1 "typically echos the status code"), not the reason.
    expect((await client.closed).code).toBe(4001);
    expect(await closeEvents.get(name)).toEqual([4001, 'bye', true]);
  });

  it('delivers the close code and reason the server sent', async () => {
    const { client, name } = await open();
    client.send('close me');
    expect(await client.closed).toEqual({ code: 4002, reason: 'done' });
    const [code, , wasClean] = (await closeEvents.get(name))!;
    expect(code).toBe(4002);
    expect(wasClean).toBe(true);
  });
});

describe('with the ws client only', () => {
  const open = async () => {
    const name = `ws-${++sequence}`;
    const client = await wsClient(`${url}/?name=${name}`);
    return { client, name, connection: serverSide.get(name)! };
  };

  it('assembles a message the client sent in fragments', async () => {
    const { client } = await open();
    client.raw.send('frag', { fin: false });
    client.raw.send('men', { fin: false });
    client.raw.send('ted', { fin: true });
    const message = await client.nextMessage();
    expect(message.data.toString()).toBe('fragmented');
    client.close();
  });

  it('answers a client ping with the same payload', async () => {
    const { client } = await open();
    const pong = once(client.raw, 'pong');
    client.raw.ping('ping-data');
    expect(String((await pong)[0])).toBe('ping-data');
    client.close();
  });

  it('reports 1006 when the client vanishes without a close frame, and forgets it', async () => {
    const { client, name, connection } = await open();
    expect(server.clients.has(connection)).toBe(true);
    client.raw.terminate();
    expect(await closeEvents.get(name)).toEqual([1006, '', false]);
    expect(server.clients.has(connection)).toBe(false);
  });
});
