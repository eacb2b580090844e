import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildAcceptResponse, ConnectionClosedError, ConnectionState, ServerProtocol, validateUpgradeRequest, type ProtocolOptions } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { CLIENT_DEFAULTS, Connection, type ConnectionOptions, resolveConnectionOptions } from '@ws/core/node';

interface Harness {
  url: string;
  server: Server;
  accepted: Promise<Connection>;
}

const servers: Server[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A minimal server built from core's handshake values and the binding, as @ws/server does. */
async function harness(options: ConnectionOptions = {}, protocolOptions: ProtocolOptions = {}): Promise<Harness> {
  const server = createServer();
  servers.push(server);
  let resolveAccepted: (connection: Connection) => void;
  const accepted = new Promise<Connection>((resolve) => (resolveAccepted = resolve));
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const { key } = validateUpgradeRequest(request);
    socket.write(buildAcceptResponse({ key }));
    const connection = new Connection(socket, new ServerProtocol(protocolOptions), {
      settings: resolveConnectionOptions(options, CLIENT_DEFAULTS),
      head,
    });
    resolveAccepted(connection);
    queueMicrotask(() => connection.start());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, server, accepted };
}

async function open(url: string): Promise<WebSocket> {
  const client = new WebSocket(url);
  clients.push(client);
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  return client;
}

const nextMessage = (client: WebSocket) =>
  new Promise<{ data: Buffer; isBinary: boolean }>((resolve) => client.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));

/** Counts the bytes the client's socket reads from now on (frame headers included). */
function countReceivedBytes(client: WebSocket): () => number {
  let total = 0;
  const socket = (client as unknown as { _socket: Socket })._socket;
  socket.prependListener('data', (chunk: Buffer) => (total += chunk.length));
  return () => total;
}

describe('Connection over a real socket, with the ws client as peer', () => {
  it('echoes text and binary messages of every length class', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    for (const size of [0, 1, 125, 126, 65535, 65536, 1024 * 1024]) {
      const payload = Buffer.alloc(size, 0x62);
      client.send(payload);
      const binary = await nextMessage(client);
      expect(binary.isBinary).toBe(true);
      expect(binary.data.equals(payload)).toBe(true);
      client.send(payload.toString());
      const text = await nextMessage(client);
      expect(text.isBinary).toBe(false);
      expect(text.data.toString()).toBe(payload.toString());
    }
  });

  it('answers a burst of messages with one write per incoming chunk', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const socket = connection.socket as Socket;
    let writes = 0;
    const write = socket.write.bind(socket);
    socket.write = ((...args: Parameters<Socket['write']>) => {
      writes++;
      return write(...args);
    }) as Socket['write'];
    let chunks = 0;
    socket.on('data', () => chunks++);
    connection.on('message', (data) => connection.send(data));
    const received: string[] = [];
    client.on('message', (data) => received.push(data.toString()));
    // 50 frames in one TCP write: the server reads them in one or a few chunks.
    const frames = Buffer.concat(Array.from({ length: 50 }, (_, index) => encodeFrame({ opcode: 1, payload: `m${index}`, maskKey: Buffer.from([1, 2, 3, 4]) })));
    (client as unknown as { _socket: Socket })._socket.write(frames);
    await expect.poll(() => received.length).toBe(50);
    expect(received[49]).toBe('m49');
    expect(writes).toBe(chunks);
  });

  it('writes a lone message at once, outside any event', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const message = nextMessage(client);
    expect(connection.send('pushed')).toBe('sent');
    expect((await message).data.toString()).toBe('pushed');
  });

  it('completes a server-initiated close handshake', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const clientClosed = new Promise<[number, string]>((resolve) => client.once('close', (code, reason) => resolve([code, reason.toString()])));
    const serverClosed = new Promise<[number, string, boolean]>((resolve) => connection.once('close', (...args) => resolve(args)));
    connection.close(4001, 'bye');
    expect(connection.readyState).toBe(ConnectionState.Closing);
    expect(connection.send('late')).toBe('closed');
    expect(await clientClosed).toEqual([4001, 'bye']);
    expect(await serverClosed).toEqual([4001, 'bye', true]);
    expect(connection.readyState).toBe(ConnectionState.Closed);
  });

  it('completes a client-initiated close handshake', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const serverClosed = new Promise<[number, string, boolean]>((resolve) => connection.once('close', (...args) => resolve(args)));
    client.close(1000, 'done');
    expect(await serverClosed).toEqual([1000, 'done', true]);
  });

  it('reports 1006 when the peer disappears without a close frame', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const serverClosed = new Promise<[number, string, boolean]>((resolve) => connection.once('close', (...args) => resolve(args)));
    client.terminate();
    expect(await serverClosed).toEqual([1006, '', false]);
  });

  it('destroys the transport when the peer never answers the close', async () => {
    const { url, accepted } = await harness({ closeTimeout: 200 });
    const client = await open(url);
    const connection = await accepted;
    // Stop the ws client from reading: it never sees the close frame, so never answers it.
    (client as unknown as { _socket: Socket })._socket.pause();
    const started = Date.now();
    const serverClosed = new Promise<[number, string, boolean]>((resolve) => connection.once('close', (...args) => resolve(args)));
    connection.close(1000);
    const [code, , wasClean] = await serverClosed;
    expect(code).toBe(1006);
    expect(wasClean).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('terminate() reports 1006 with its reason and rejects pending sendAsync', async () => {
    const { url, accepted } = await harness();
    await open(url);
    const connection = await accepted;
    const serverClosed = new Promise<[number, string, boolean]>((resolve) => connection.once('close', (...args) => resolve(args)));
    connection.terminate('heartbeat timeout');
    expect(await serverClosed).toEqual([1006, 'heartbeat timeout', false]);
    await expect(connection.sendAsync('x')).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('fails a protocol violation with its close code and survives without an error listener', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const clientClosed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    const serverClosed = new Promise((resolve) => connection.once('close', resolve));
    client.on('error', () => {});
    // An unmasked frame from a client: RFC 6455 §5.1, 1002.
    (client as unknown as { _socket: Socket })._socket.write(encodeFrame({ opcode: 1, payload: 'unmasked' }));
    expect(await clientClosed).toBe(1002);
    await serverClosed;
    expect(connection.readyState).toBe(ConnectionState.Closed);
  });

  it('with deferCloseEcho, answers the message that came in the same chunk as a violation before failing', async () => {
    const { url, accepted } = await harness({}, { deferCloseEcho: true });
    const client = await open(url);
    const connection = await accepted;
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    const received: string[] = [];
    client.on('message', (data) => received.push(`message ${(data as Buffer).toString()}`));
    client.on('error', () => {});
    const clientClosed = new Promise<void>((resolve) => client.once('close', (code) => resolve(void received.push(`close ${code}`))));
    const maskKey = Buffer.from([9, 9, 9, 9]);
    // A valid message, then a frame with the reserved opcode 0x3 (RFC 6455 §5.2: 1002), in one write.
    (client as unknown as { _socket: Socket })._socket.write(
      Buffer.concat([encodeFrame({ opcode: 1, payload: 'Hello', maskKey }), encodeFrame({ opcode: 3, payload: '', maskKey })]),
    );
    await clientClosed;
    expect(received).toEqual(['message Hello', 'close 1002']);
  });

  it('reports the policy for a send buffer over its limit', async () => {
    const { url, accepted } = await harness({ maxBufferedAmount: 1024, onBackpressure: 'drop' });
    const client = await open(url);
    (client as unknown as { _socket: Socket })._socket.pause();
    const connection = await accepted;
    const statuses = new Set<string>();
    for (let index = 0; index < 200 && !statuses.has('dropped'); index++) statuses.add(connection.send(Buffer.alloc(256 * 1024)));
    expect(statuses.has('queued')).toBe(true);
    expect(statuses.has('dropped')).toBe(true);
  });

  it('closes with 1008 past the limit under the close policy', async () => {
    const { url, accepted } = await harness({ maxBufferedAmount: 1024, onBackpressure: 'close', closeTimeout: 100 });
    const client = await open(url);
    (client as unknown as { _socket: Socket })._socket.pause();
    const connection = await accepted;
    let status = '';
    for (let index = 0; index < 200 && status !== 'closed'; index++) status = connection.send(Buffer.alloc(256 * 1024));
    expect(status).toBe('closed');
    expect(connection.readyState).toBe(ConnectionState.Closing);
  });

  it('sendAsync resolves once the transport drains', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    let received = 0;
    client.on('message', (data) => (received += (data as Buffer).length));
    const big = Buffer.alloc(8 * 1024 * 1024, 1);
    await connection.sendAsync(big);
    expect(connection.bufferedAmount).toBeLessThan(big.length);
    await expect.poll(() => received, { timeout: 10_000 }).toBe(big.length);
  });

  it('sends large messages as fragments of fragmentSize', async () => {
    const { url, accepted } = await harness({ fragmentSize: 1000 });
    const client = await open(url);
    const connection = await accepted;
    const received = countReceivedBytes(client);
    const message = nextMessage(client);
    connection.send(Buffer.alloc(2500, 7));
    const { data } = await message;
    expect(data.length).toBe(2500);
    // Three frames: 1000 + 1000 + 500 bytes of payload, each with a 4-byte header.
    expect(received()).toBe(2500 + 4 + 4 + 4);
  });

  it('fragments text by its UTF-8 length, splitting a character across fragments if need be', async () => {
    const { url, accepted } = await harness({ fragmentSize: 1000 });
    const client = await open(url);
    const connection = await accepted;
    const received = countReceivedBytes(client);
    const message = nextMessage(client);
    // 500 characters, 1500 bytes: over fragmentSize in bytes though not in characters.
    const text = '€'.repeat(500);
    connection.send(text);
    const { data, isBinary } = await message;
    expect(isBinary).toBe(false);
    expect(data.toString('utf8')).toBe(text);
    // Two frames: 1000 bytes (a 4-byte header) + 500 bytes (a 4-byte header).
    expect(received()).toBe(1500 + 4 + 4);
  });

  it('streams a message of unknown length as fragments', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const message = nextMessage(client);
    async function* parts() {
      yield 'Hel';
      yield Buffer.from('lo, ');
      yield 'world';
    }
    await connection.sendStream(parts());
    const { data, isBinary } = await message;
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe('Hello, world');
  });

  it('feeds the handshake head before the first socket data', async () => {
    const server = createServer();
    servers.push(server);
    const messages: string[] = [];
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const { key } = validateUpgradeRequest(request);
      socket.write(buildAcceptResponse({ key }));
      const connection = new Connection(socket, new ServerProtocol(), {
        settings: resolveConnectionOptions({}, CLIENT_DEFAULTS),
        head,
      });
      connection.on('message', (data) => messages.push(data.toString()));
      connection.start();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { connect } = await import('node:net');
    const socket = connect(port, '127.0.0.1');
    const frame = encodeFrame({ opcode: 1, payload: 'pipelined', maskKey: Buffer.from([9, 9, 9, 9]) });
    socket.write(
      Buffer.concat([
        Buffer.from(
          'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
        frame,
      ]),
    );
    await expect.poll(() => messages).toEqual(['pipelined']);
    socket.destroy();
  });

  it('closes with 1011 when a streamed message source fails', async () => {
    const { url, accepted } = await harness();
    const client = await open(url);
    const connection = await accepted;
    const clientClosed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    async function* failing() {
      yield 'partial';
      throw new Error('source broke');
    }
    await expect(connection.sendStream(failing())).rejects.toThrow('source broke');
    expect(await clientClosed).toBe(1011);
  });

  it('sendAsync waits for the transport instead of dropping under the drop policy', async () => {
    const { url, accepted } = await harness({ maxBufferedAmount: 1024, onBackpressure: 'drop' });
    const client = await open(url);
    const connection = await accepted;
    let received = 0;
    client.on('message', () => received++);
    for (let index = 0; index < 20; index++) await connection.sendAsync(Buffer.alloc(256 * 1024));
    await expect.poll(() => received, { timeout: 10_000 }).toBe(20);
  });
});
