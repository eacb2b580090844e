import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  acceptPerMessageDeflateResponse,
  compressMessage,
  Opcode,
  parseExtensionOffers,
  type PerMessageDeflate,
} from '@ws/core';
import { runConformance, ScriptedPeer } from '@ws/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../test/start-server.js';
import { type ServerConnection, WebSocketServer, type WebSocketServerOptions } from './index.js';

/**
 * permessage-deflate (RFC 7692) on a real server: interop with `ws` for every parameter, the
 * negotiation edge cases, per-message and threshold control, compressed broadcasts, the
 * catalogue's sections 12 and 13, and a decompression bomb.
 */

const cleanups: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function echoServer(options: Omit<WebSocketServerOptions<undefined>, 'port' | 'server' | 'noServer'>) {
  const started = await startServer(options);
  const connections: ServerConnection[] = [];
  started.server.on('connection', (connection) => {
    connections.push(connection);
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  });
  cleanups.push(() => started.server.close({ timeout: 200 }));
  return { ...started, connections };
}

async function peer(url: string, offer?: string): Promise<ScriptedPeer> {
  const connected = await ScriptedPeer.connect(url, {
    timeout: 3_000,
    ...(offer === undefined ? {} : { headers: { 'Sec-WebSocket-Extensions': offer } }),
  });
  cleanups.push(() => connected.close(50));
  return connected;
}

/** The peer's side of what the server answered, to inflate its messages with. */
function deflateOf(connected: ScriptedPeer): PerMessageDeflate {
  const answered = connected.handshakeResponse!.headers['sec-websocket-extensions'] as string;
  const deflate = acceptPerMessageDeflateResponse(parseExtensionOffers(answered)[0]!, { threshold: 0 });
  cleanups.push(() => deflate.dispose());
  return deflate;
}

/** Reads one message's frames and inflates it when RSV1 says it is compressed. */
async function receive(connected: ScriptedPeer, deflate: PerMessageDeflate) {
  const message = await connected.expectMessage();
  const compressed = message.frames[0]!.rsv1;
  const data = compressed ? Buffer.from(deflate.decode(message.data, true, 1 << 26) as Uint8Array) : message.data;
  return { compressed, data, wire: message.data, frames: message.frames };
}

/** JSON-like text: what compression is for. */
const JSON_TEXT = JSON.stringify(
  Array.from({ length: 600 }, (_, index) => ({ id: index, name: `user-${index % 37}`, online: index % 3 === 0 })),
);

interface WsClientDeflate {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

/** Every parameter of RFC 7692 §7.1, alone and together, as the `ws` client asks for it. */
const CLIENT_COMBINATIONS: readonly [string, WsClientDeflate][] = [
  ['the default offer', {}],
  ['client_no_context_takeover', { clientNoContextTakeover: true }],
  ['server_no_context_takeover', { serverNoContextTakeover: true }],
  ['both no_context_takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ['client_max_window_bits=9', { clientMaxWindowBits: 9 }],
  ['client_max_window_bits=15', { clientMaxWindowBits: 15 }],
  ['server_max_window_bits=9', { serverMaxWindowBits: 9 }],
  ['server_max_window_bits=15', { serverMaxWindowBits: 15 }],
  ['every parameter, 10-bit windows', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 }],
];

/** What the server answers `ws`'s offer with (RFC 7692 §7.1), given whether it keeps its own context by policy. */
function expectedResponse(asked: WsClientDeflate, serverKeepsContext: boolean): string {
  const params = ['permessage-deflate'];
  if (asked.serverNoContextTakeover === true || !serverKeepsContext) params.push('server_no_context_takeover');
  if (asked.clientNoContextTakeover === true) params.push('client_no_context_takeover');
  if (asked.serverMaxWindowBits !== undefined) params.push(`server_max_window_bits=${asked.serverMaxWindowBits}`);
  params.push(`client_max_window_bits=${asked.clientMaxWindowBits ?? 15}`);
  return params.join('; ');
}

function wsClient(url: string, perMessageDeflate: WsClientDeflate | false) {
  const client = new WebSocket(url, { perMessageDeflate, maxPayload: 64 * 1024 * 1024 });
  cleanups.push(() => client.terminate());
  const messages: { data: Buffer; isBinary: boolean }[] = [];
  const waiters: (() => void)[] = [];
  client.on('message', (data: Buffer, isBinary) => {
    messages.push({ data, isBinary });
    waiters.shift()?.();
  });
  const next = async () => {
    if (messages.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return messages.shift()!;
  };
  return { client, next, opened: once(client, 'open') };
}

describe('interop with the ws client, every parameter', () => {
  for (const [policyName, policy, keepsContext] of [
    ['the default policy', true, false],
    ['a policy that keeps the server context, threshold 0', { serverNoContextTakeover: false, threshold: 0 }, true],
  ] as const) {
    describe(policyName, () => {
      it.each(CLIENT_COMBINATIONS)('%s: negotiates, and compressed messages round-trip both ways', async (_name, asked) => {
        const { url, connections } = await echoServer({ perMessageDeflate: policy });
        const { client, next, opened } = wsClient(url, asked);
        await opened;
        expect(client.extensions).toBe('permessage-deflate');
        expect(connections[0]!.extensions).toBe(expectedResponse(asked, keepsContext));

        const socket = (client as unknown as { _socket: { bytesRead: number; bytesWritten: number } })._socket;
        const serverSocket = connections[0]!.socket as unknown as { bytesRead: number };
        // Several rounds, so that a context kept by either side is taken over and used.
        for (let round = 0; round < 4; round++) {
          const text = `${round}:${JSON_TEXT}`;
          const readBefore = socket.bytesRead;
          const serverReadBefore = serverSocket.bytesRead;
          client.send(text);
          const echoed = await next();
          expect(echoed.isBinary).toBe(false);
          expect(echoed.data.toString()).toBe(text);
          // Both directions went compressed: a fraction of the text's size on the wire.
          expect(socket.bytesRead - readBefore).toBeLessThan(text.length / 4);
          expect(serverSocket.bytesRead - serverReadBefore).toBeLessThan(text.length / 4);
        }
        const binary = Buffer.alloc(300_000, 'binary payload ');
        client.send(binary);
        const binaryEcho = await next();
        expect(binaryEcho.isBinary).toBe(true);
        expect(binaryEcho.data.equals(binary)).toBe(true);
        client.send('hi');
        expect((await next()).data.toString()).toBe('hi');
        client.close(1000);
        await once(client, 'close');
      });
    });
  }

  it('is off by default: an offer is declined and messages go uncompressed', async () => {
    const { url, connections } = await echoServer({});
    const { client, next, opened } = wsClient(url, {});
    await opened;
    expect(client.extensions).toBe('');
    expect(connections[0]!.extensions).toBe('');
    client.send(JSON_TEXT);
    expect((await next()).data.toString()).toBe(JSON_TEXT);
  });
});

describe('negotiation', () => {
  it('declines an offer it cannot accept and proceeds uncompressed; RSV1 is then a protocol error', async () => {
    const { url } = await echoServer({ perMessageDeflate: true });
    const declined = await peer(url, 'permessage-deflate; x_unknown, permessage-deflate; server_max_window_bits=8');
    expect(declined.handshakeResponse!.headers['sec-websocket-extensions']).toBeUndefined();
    await declined.sendText('plain');
    await declined.expectMessage('plain');
    // RFC 6455 §5.2: RSV1 "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values."
    await declined.sendFrame({ opcode: Opcode.Text, rsv1: true, payload: Buffer.from('f248cdc9c90700', 'hex') });
    await declined.expectClose(1002);
  });

  it('accepts the next offer when the first is invalid (RFC 7692 §7: the server MUST decline it)', async () => {
    const { url } = await echoServer({ perMessageDeflate: true });
    const accepted = await peer(url, 'permessage-deflate; client_max_window_bits=16, permessage-deflate; client_no_context_takeover');
    expect(accepted.handshakeResponse!.headers['sec-websocket-extensions']).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
  });

  it('throws RangeError for invalid options at construction', () => {
    expect(() => new WebSocketServer({ noServer: true, perMessageDeflate: { serverMaxWindowBits: 8 } })).toThrow(RangeError);
    expect(() => new WebSocketServer({ noServer: true, perMessageDeflate: { level: 10 } })).toThrow(RangeError);
    expect(() => new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: -1 } })).toThrow(RangeError);
  });

  it('fails a compressed message that does not inflate with 1007', async () => {
    const { url } = await echoServer({ perMessageDeflate: true });
    const connected = await peer(url, 'permessage-deflate');
    await connected.sendFrame({ opcode: Opcode.Binary, rsv1: true, payload: Buffer.from('ffffffff', 'hex') });
    await connected.expectClose(1007);
  });
});

describe('what gets compressed', () => {
  it('compresses at and above the threshold only, and never a message sent with compress: false', async () => {
    const { url, server } = await echoServer({ perMessageDeflate: { threshold: 1024 } });
    const opened = once(server, 'connection') as Promise<[ServerConnection]>;
    const connected = await peer(url, 'permessage-deflate');
    const [connection] = await opened;
    const deflate = deflateOf(connected);

    connection.send(Buffer.alloc(1023, 'a'));
    connection.send(Buffer.alloc(1024, 'a'));
    connection.send(Buffer.alloc(4096, 'a'), { compress: false });
    connection.send('z'.repeat(4096));
    const below = await receive(connected, deflate);
    const at = await receive(connected, deflate);
    const notCompressed = await receive(connected, deflate);
    const compressedText = await receive(connected, deflate);
    expect([below.compressed, at.compressed, notCompressed.compressed, compressedText.compressed]).toEqual([false, true, false, true]);
    expect(at.data.equals(Buffer.alloc(1024, 'a'))).toBe(true);
    expect(notCompressed.wire.equals(Buffer.alloc(4096, 'a'))).toBe(true);
    expect(compressedText.data.toString()).toBe('z'.repeat(4096));
    expect(compressedText.wire.length).toBeLessThan(100);
  });

  it('compresses a message larger than fragmentSize as fragments, RSV1 on the first only', async () => {
    // Whether to compress is decided on the first fragment's size (the protocol cannot know the
    // message's), so the fragments here are above the 1024-byte threshold.
    const { url, server } = await echoServer({ perMessageDeflate: true, fragmentSize: 2000 });
    const opened = once(server, 'connection') as Promise<[ServerConnection]>;
    const connected = await peer(url, 'permessage-deflate');
    const [connection] = await opened;
    const deflate = deflateOf(connected);
    connection.send(JSON_TEXT);
    const message = await receive(connected, deflate);
    expect(message.frames.length).toBeGreaterThan(1);
    expect(message.frames.map((frame) => frame.rsv1)).toEqual(message.frames.map((_, index) => index === 0));
    expect(message.data.toString()).toBe(JSON_TEXT);
  });
});

describe('broadcast', () => {
  it('compresses once for every recipient without context takeover; others get their own or plain frames', async () => {
    const { url, server } = await echoServer({ perMessageDeflate: { serverNoContextTakeover: false } });
    const shared = [
      await peer(url, 'permessage-deflate; server_no_context_takeover'),
      await peer(url, 'permessage-deflate; server_no_context_takeover'),
    ];
    const keeping = await peer(url, 'permessage-deflate');
    const plain = await peer(url);
    await expect.poll(() => server.clients.size).toBe(4);
    const inflaters = [...shared, keeping].map((each) => deflateOf(each));
    // Text without long repeats inside itself, so that only a kept context makes a repeat small.
    const news = randomBytes(6000).toString('base64');

    expect(server.broadcast(news)).toEqual({ sent: 4, queued: 0, dropped: 0, closed: 0 });
    expect(server.broadcast(news)).toEqual({ sent: 4, queued: 0, dropped: 0, closed: 0 });
    const [first, second] = await Promise.all(shared.map(async (each, index) => [await receive(each, inflaters[index]!), await receive(each, inflaters[index]!)]));
    const kept = [await receive(keeping, inflaters[2]!), await receive(keeping, inflaters[2]!)];
    const plainMessages = [await plain.expectMessage(news), await plain.expectMessage(news)];

    for (const message of [...first!, ...second!, ...kept]) {
      expect(message.compressed).toBe(true);
      expect(message.data.toString()).toBe(news);
    }
    // The same compressed bytes for both shared recipients, message after message (no context).
    expect(first![0]!.wire.equals(second![0]!.wire)).toBe(true);
    expect(first![1]!.wire.equals(first![0]!.wire)).toBe(true);
    // The connection that keeps its context compressed the repeat against its window: far smaller.
    expect(kept[1]!.wire.length).toBeLessThan(kept[0]!.wire.length / 4);
    expect(plainMessages.every((message) => !message.frames[0]!.rsv1)).toBe(true);

    server.broadcast(news, { compress: false });
    for (const [index, each] of [...shared, keeping].entries()) expect((await receive(each, inflaters[index]!)).compressed).toBe(false);
  });
});

describe('sections 12 and 13 of the conformance catalogue', () => {
  it.each([
    ['the default policy', true],
    ['a policy that keeps the server context, threshold 0', { serverNoContextTakeover: false, threshold: 0 }],
  ] as const)('pass every case with %s', { timeout: 120_000 }, async (_name, policy) => {
    const { url } = await echoServer({ perMessageDeflate: policy });
    const report = await runConformance({ target: url, agent: '@ws/server', cases: '12.*,13.*' });
    expect(report.summary.total).toBe(150);
    expect(report.results.filter((result) => result.outcome !== 'pass').map((result) => `${result.id}: ${result.reason}`)).toEqual([]);
  });
});

describe('a decompression bomb', () => {
  /**
   * RSS growth allowed while the bomb is received and refused: the 1 MiB budget, the 1 MiB
   * frame in socket buffers and the peer's masked copy, allocator slack. Measured at 3-5 MiB on
   * Node 20; inflating the whole message would take 1 GiB.
   */
  const RSS_BOUND = 32 * 1024 * 1024;

  it('1 GiB inflating against a 1 MiB cap: closed with 1009, RSS grows by less than 32 MiB', { timeout: 60_000 }, async () => {
    // As in core's test: 16 copies of a compressed 64 MiB zero stream, each ending with
    // Z_SYNC_FLUSH, joined by 00 00 ff ff into one stream that inflates to 1 GiB.
    const segment = compressMessage(Buffer.alloc(64 << 20), { windowBits: 15, level: 9, memLevel: 8 });
    const flushed = Buffer.concat([segment, Buffer.from('0000ffff', 'hex')]);
    const bomb = Buffer.concat([...Array.from({ length: 15 }, () => flushed), segment]);
    // Under the frame limit: what stops it is the inflated size, not the frame size.
    expect(bomb.length).toBeLessThan(1 << 20);

    const { url, server } = await echoServer({ perMessageDeflate: true, maxMessageSize: 1 << 20 });
    const opened = once(server, 'connection') as Promise<[ServerConnection]>;
    const connected = await peer(url, 'permessage-deflate');
    const [connection] = await opened;
    const errors: Error[] = [];
    connection.on('error', (error) => errors.push(error));
    const closed = new Promise((resolve) => connection.once('close', resolve));

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 2);
    try {
      await connected.sendFrame({ opcode: Opcode.Binary, rsv1: true, payload: bomb });
      await connected.expectClose(1009);
      await closed;
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    } finally {
      clearInterval(sampler);
    }
    expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/^Inflated message exceeds maxMessageSize/)]);
    expect(rssPeak - rssBefore).toBeLessThan(RSS_BOUND);
  });
});
