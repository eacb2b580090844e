import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { MessagePieceReceived } from '@ws/core';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../test/start-server.js';
import type { ServerConnection, WebSocketServerOptions } from './index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverAndClient(options: WebSocketServerOptions = {}) {
  const { server, url } = await startServer(options);
  cleanups.push(() => server.close({ timeout: 300 }));
  const connected = once(server, 'connection') as Promise<[ServerConnection]>;
  const client = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  cleanups.push(() => client.terminate());
  await once(client, 'open');
  const [connection] = await connected;
  return { server, client, connection };
}

/** Sends a 262,145-byte message the way Chromium did: 131072 + 131072 + 1 bytes, three frames. */
function sendAsBrowserDoes(client: WebSocket, message: Buffer): void {
  client.send(message.subarray(0, 131_072), { fin: false, binary: true });
  client.send(message.subarray(131_072, 262_144), { fin: false, binary: true });
  client.send(message.subarray(262_144), { fin: true, binary: true });
}

/** Frame sizes as the server sees them in stream mode: piece lengths summed up to each frame end. */
function recordFrameSizes(connection: ServerConnection): Promise<number[]> {
  return new Promise((resolve) => {
    const sizes: number[] = [];
    let current = 0;
    connection.on('piece', (piece: MessagePieceReceived) => {
      current += piece.data.length;
      if (!piece.frameEnd) return;
      sizes.push(current);
      current = 0;
      if (piece.messageEnd) resolve(sizes);
    });
  });
}

describe('new ArrayBuffer(131072 * 2 + 1) from a browser, in three fragments', () => {
  const message = randomBytes(131_072 * 2 + 1);

  it('stream mode logs each fragment: 131072, 131072, 1', async () => {
    const { client, connection } = await serverAndClient({ receiveMode: 'stream' });
    const sizes = recordFrameSizes(connection);
    sendAsBrowserDoes(client, message);
    expect(await sizes).toEqual([131_072, 131_072, 1]);
  });

  it('message mode delivers one 262145-byte message', async () => {
    const { client, connection } = await serverAndClient();
    const received = once(connection, 'message') as Promise<[Buffer, boolean]>;
    sendAsBrowserDoes(client, message);
    const [data, isBinary] = await received;
    expect(isBinary).toBe(true);
    expect(data.length).toBe(262_145);
    expect(data.equals(message)).toBe(true);
  });
});

describe('streaming receive with backpressure', () => {
  it('a slow consumer stops the socket being read, and still gets every byte in order', async () => {
    const { client, connection } = await serverAndClient({
      receiveMode: 'stream',
      receiveHighWaterMark: 64 * 1024,
      maxMessageSize: 64 * 1024 * 1024,
    });
    const payload = randomBytes(8 * 1024 * 1024);
    let pausedSeen = false;
    const consumed = (async () => {
      const chunks: Buffer[] = [];
      for await (const message of connection.messageStreams()) {
        for await (const chunk of message) {
          chunks.push(chunk);
          pausedSeen ||= connection.isPaused;
          if (chunks.length % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
        return Buffer.concat(chunks);
      }
      return Buffer.alloc(0);
    })();
    client.send(payload);
    const received = await consumed;
    expect(pausedSeen).toBe(true);
    expect(received.equals(payload)).toBe(true);
    expect(connection.isPaused).toBe(false);
  });

  it('iterates whole messages in message mode, and ends when the connection closes', async () => {
    const { client, connection } = await serverAndClient();
    const texts: string[] = [];
    const done = (async () => {
      for await (const message of connection) texts.push(message as string);
    })();
    client.send('one');
    client.send('two');
    client.close(1000);
    await done;
    expect(texts).toEqual(['one', 'two']);
  });
});

describe('streaming send', () => {
  it('sends a Readable of unknown length as one fragmented message', async () => {
    const { client, connection } = await serverAndClient({ fragmentSize: 16 * 1024 });
    const parts = Array.from({ length: 10 }, () => randomBytes(50_000));
    const received = once(client, 'message') as Promise<[Buffer, boolean]>;
    await connection.sendStream(Readable.from(parts));
    const [data, isBinary] = await received;
    expect(isBinary).toBe(true);
    expect(data.equals(Buffer.concat(parts))).toBe(true);
  });

  it('sends an async generator of strings as one text message', async () => {
    const { client, connection } = await serverAndClient();
    async function* words() {
      for (const word of ['streamed ', 'text ', 'message']) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield word;
      }
    }
    const received = once(client, 'message') as Promise<[Buffer, boolean]>;
    await connection.sendStream(words());
    const [data, isBinary] = await received;
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe('streamed text message');
  });
});
