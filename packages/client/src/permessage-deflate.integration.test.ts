import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  acceptPerMessageDeflate,
  computeAcceptKey,
  HandshakeError,
  Opcode,
  parseExtensionOffers,
  type PerMessageDeflate,
  type PerMessageDeflateClientOptions,
} from '@ws/core';
import { WebSocketServer as OurServer } from '@ws/server';
import { headerValue, runConformance, ScriptedServer } from '@ws/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { ClientConnection } from './client-connection.js';
import { connect } from './connect.js';
import { WebSocket } from './web-socket.js';

/**
 * The client's permessage-deflate (RFC 7692) against `ws` and `@ws/server` with compression
 * on, for every parameter it can ask for; the negotiation failures it must catch; and the
 * catalogue's sections 12 and 13 with the client under test.
 */

const cleanups: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function wsServer(perMessageDeflate: boolean | object): Promise<string> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  await new Promise((resolve) => server.once('listening', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function ourServer(perMessageDeflate: ConstructorParameters<typeof OurServer>[0]['perMessageDeflate']): Promise<string> {
  const server = new OurServer({ port: 0, host: '127.0.0.1', perMessageDeflate, heartbeat: false });
  server.on('connection', (connection) => connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  cleanups.push(() => server.close({ timeout: 200 }));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function open(url: string, perMessageDeflate: boolean | PerMessageDeflateClientOptions): Promise<ClientConnection> {
  const connection = await connect(url, { perMessageDeflate, maxMessageSize: 64 * 1024 * 1024 });
  cleanups.push(() => connection.terminate());
  return connection;
}

/** The response's parameters, as a sorted list of `name` or `name=value`. */
function parameters(extensions: string): string[] {
  const [offer] = parseExtensionOffers(extensions);
  if (offer === undefined) return [];
  return [offer.name, ...[...offer.params].map(([name, value]) => (value === true ? name : `${name}=${value}`))].sort();
}

/** Every parameter of RFC 7692 §7.1 the client can ask for, alone and together. */
const COMBINATIONS: readonly [string, PerMessageDeflateClientOptions, string[]][] = [
  ['the default offer', {}, []],
  ['client_no_context_takeover', { clientNoContextTakeover: true }, ['client_no_context_takeover']],
  ['server_no_context_takeover', { serverNoContextTakeover: true }, ['server_no_context_takeover']],
  ['both no_context_takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }, ['client_no_context_takeover', 'server_no_context_takeover']],
  ['client_max_window_bits=9', { clientMaxWindowBits: 9 }, ['client_max_window_bits=9']],
  ['client_max_window_bits=15', { clientMaxWindowBits: 15 }, ['client_max_window_bits=15']],
  ['server_max_window_bits=9', { serverMaxWindowBits: 9 }, ['server_max_window_bits=9']],
  ['server_max_window_bits=15', { serverMaxWindowBits: 15 }, ['server_max_window_bits=15']],
  [
    'every parameter, 10-bit windows',
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
    ['client_max_window_bits=10', 'client_no_context_takeover', 'server_max_window_bits=10', 'server_no_context_takeover'],
  ],
];

/** Text without long repeats inside itself: a kept context shows in how small a repeat gets. */
const TEXT = randomBytes(12_000).toString('base64');

/** Sends rounds of messages and checks each echo, and that both directions went compressed. */
async function roundTrips(connection: ClientConnection): Promise<void> {
  const socket = connection.socket as unknown as { bytesRead: number; bytesWritten: number };
  const messages = connection.messages();
  for (let round = 0; round < 3; round++) {
    const json = JSON.stringify({ round, rows: Array.from({ length: 400 }, (_, index) => ({ index, even: index % 2 === 0 })) });
    const readBefore = socket.bytesRead;
    const writtenBefore = socket.bytesWritten;
    connection.send(json);
    expect((await messages.next()).value).toBe(json);
    expect(socket.bytesWritten - writtenBefore).toBeLessThan(json.length / 4);
    expect(socket.bytesRead - readBefore).toBeLessThan(json.length / 4);
  }
  connection.send(TEXT);
  expect((await messages.next()).value).toBe(TEXT);
  const binary = Buffer.alloc(300_000, 'binary ');
  connection.send(binary);
  expect(Buffer.from((await messages.next()).value as Buffer).equals(binary)).toBe(true);
  connection.send('hi');
  expect((await messages.next()).value).toBe('hi');
  await messages.return?.(undefined);
  expect((await connection.close(1000)).code).toBe(1000);
}

describe('against ws with permessage-deflate on', () => {
  it.each(COMBINATIONS)('%s: negotiates, and compressed messages round-trip both ways', async (_name, offer, expected) => {
    const url = await wsServer({ threshold: 0 });
    const connection = await open(url, offer);
    expect(parameters(connection.extensions)).toEqual(['permessage-deflate', ...expected].sort());
    await roundTrips(connection);
  });

  it('proceeds uncompressed when the server declines', async () => {
    const url = await wsServer(false);
    const connection = await open(url, true);
    expect(connection.extensions).toBe('');
    connection.send('plain');
    expect((await connection.messages().next()).value).toBe('plain');
  });
});

describe('against @ws/server', () => {
  it.each([
    ['the default policy', true],
    ['a policy that keeps the server context, threshold 0', { serverNoContextTakeover: false, threshold: 0 }],
  ] as const)('with %s: every combination round-trips compressed', async (_name, policy) => {
    const url = await ourServer(policy);
    for (const [, offer] of COMBINATIONS) {
      const connection = await open(url, offer);
      expect(parseExtensionOffers(connection.extensions).map((element) => element.name)).toEqual(['permessage-deflate']);
      await roundTrips(connection);
    }
  });

  it('the WHATWG WebSocket offers it when asked and reports the agreed extensions', async () => {
    const url = await ourServer(true);
    const socket = new WebSocket(url, { perMessageDeflate: true });
    cleanups.push(() => socket.close());
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    expect(socket.extensions).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits=15');
    const echoed = new Promise((resolve) => {
      socket.onmessage = (event) => resolve(event.data);
    });
    socket.send(TEXT);
    expect(await echoed).toBe(TEXT);
  });
});

describe('the offer and the response, on the wire', () => {
  let scripted: ScriptedServer;

  async function listen(): Promise<ScriptedServer> {
    scripted = await ScriptedServer.listen({ timeout: 3_000 });
    cleanups.push(() => scripted.close());
    return scripted;
  }

  it('offers nothing by default, and "permessage-deflate; client_max_window_bits" when asked', async () => {
    const server = await listen();
    const plain = connect(server.url);
    const plainUpgrade = await server.nextUpgrade();
    expect(plainUpgrade.request.headers['sec-websocket-extensions']).toBeUndefined();
    await plainUpgrade.answer();
    cleanups.push(async () => (await plain).terminate());

    const asking = connect(server.url, { perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 } });
    const askingUpgrade = await server.nextUpgrade();
    expect(askingUpgrade.request.headers['sec-websocket-extensions']).toBe(
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits',
    );
    await askingUpgrade.answer();
    cleanups.push(async () => (await asking).terminate());
  });

  it.each([
    ['an unknown parameter', 'permessage-deflate; x_unknown'],
    ['a repeated parameter', 'permessage-deflate; client_no_context_takeover; client_no_context_takeover'],
    ['a window bits value out of range', 'permessage-deflate; server_max_window_bits=16'],
    ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits'],
    ['server_no_context_takeover asked for and not accepted', 'permessage-deflate'],
  ])('fails the handshake on a response with %s (RFC 7692 §7)', async (_name, response) => {
    const server = await listen();
    const attempt = connect(server.url, { perMessageDeflate: { serverNoContextTakeover: true } });
    attempt.catch(() => undefined);
    // Written by hand: the core's response builder refuses to write some of these.
    await server.accept({
      handshake: (request) =>
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${computeAcceptKey(headerValue(request.headers, 'sec-websocket-key')!)}\r\n` +
        `Sec-WebSocket-Extensions: ${response}\r\n\r\n`,
    });
    await expect(attempt).rejects.toMatchObject({ name: HandshakeError.name, code: 'WS_ERR_HANDSHAKE_EXTENSION' });
  });

  it('fails the handshake when the server accepts permessage-deflate that was not offered', async () => {
    const server = await listen();
    const attempt = connect(server.url);
    attempt.catch(() => undefined);
    await server.accept({ extensions: 'permessage-deflate' });
    await expect(attempt).rejects.toMatchObject({ code: 'WS_ERR_HANDSHAKE_EXTENSION' });
  });

  it('rejects invalid options before connecting', async () => {
    await expect(connect('ws://127.0.0.1:9', { perMessageDeflate: { clientMaxWindowBits: 8 } })).rejects.toThrow(RangeError);
    await expect(connect('ws://127.0.0.1:9', { perMessageDeflate: { level: -1 } })).rejects.toThrow(RangeError);
  });

  it('compresses what it sends unless compress: false; the server decodes both', async () => {
    const server = await listen();
    const connecting = connect(server.url, { perMessageDeflate: true });
    let deflate: PerMessageDeflate | undefined;
    const peer = await server.accept({
      extensions: (offers) => {
        const accepted = acceptPerMessageDeflate(offers, {});
        deflate = accepted?.extension;
        return accepted?.response;
      },
    });
    cleanups.push(() => deflate?.dispose());
    const connection = await connecting;
    cleanups.push(() => connection.terminate());
    connection.send(TEXT);
    connection.send(TEXT, { compress: false });
    connection.send('tiny');
    const compressed = await peer.expectFrame({ opcode: Opcode.Text, rsv1: true });
    expect(Buffer.from(deflate!.decode(compressed.payload, true, 1 << 20) as Uint8Array).toString()).toBe(TEXT);
    await peer.expectFrame({ opcode: Opcode.Text, rsv1: false, payload: TEXT });
    // Below the 1024-byte threshold: not worth compressing.
    await peer.expectFrame({ opcode: Opcode.Text, rsv1: false, payload: 'tiny' });
  });
});

describe('sections 12 and 13 of the conformance catalogue, the client under test', () => {
  async function echo(url: string): Promise<void> {
    const connection = await connect(url, { perMessageDeflate: true, maxMessageSize: 64 * 1024 * 1024 });
    try {
      for await (const message of connection) connection.send(message);
    } catch {
      // How the connection ended is what the case judges.
    }
  }

  it('passes every case', { timeout: 120_000 }, async () => {
    const report = await runConformance({ target: { client: echo }, agent: '@ws/client', cases: '12.*,13.*' });
    expect(report.summary.total).toBe(140);
    expect(report.results.filter((result) => result.outcome !== 'pass').map((result) => `${result.id}: ${result.reason}`)).toEqual([]);
  });
});
