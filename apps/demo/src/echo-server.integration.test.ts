import { Buffer } from 'node:buffer';
import type { AddressInfo } from 'node:net';
import { type ClientConnection, connect } from '@ws/client';
import type { WebSocketServer } from '@ws/server';
import { runConformance } from '@ws/testkit';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ECHO_SERVER_MAX_MESSAGE_SIZE, parseEchoServerArguments, startEchoServer } from './echo-server.js';

let server: WebSocketServer;
let url: string;
let logLines: string[];
const clients: ClientConnection[] = [];

beforeEach(async () => {
  logLines = [];
  server = await startEchoServer({ port: 0, log: (line) => logLines.push(line) });
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await server.close();
});

async function open(options: Parameters<typeof connect>[1] = {}): Promise<ClientConnection> {
  const client = await connect(url, options);
  clients.push(client);
  return client;
}

it('echoes every message with its type, fragmented ones whole', async () => {
  const client = await open({ fragmentSize: 3 });
  const messages = client.messages();
  client.send('hello world');
  client.send(Buffer.from([0, 1, 2, 255]));
  client.send('');
  expect((await messages.next()).value).toBe('hello world');
  expect((await messages.next()).value).toEqual(Buffer.from([0, 1, 2, 255]));
  expect((await messages.next()).value).toBe('');
  await client.close(1000);
  await expect.poll(() => logLines).toContain('#1 close 1000 (clean)');
  expect(logLines[0]).toMatch(/^#1 open \/ from 127\.0\.0\.1:\d+$/);
});

it("accepts messages past the server's 16 MiB default, as conformance suites send", async () => {
  const client = await open({ maxMessageSize: ECHO_SERVER_MAX_MESSAGE_SIZE });
  const payload = Buffer.alloc(17 * 1024 * 1024, 0x5a);
  payload[payload.length - 1] = 1;
  client.send(payload);
  const echoed = (await client.messages().next()).value as Buffer;
  expect(echoed.length).toBe(payload.length);
  expect(echoed.equals(payload)).toBe(true);
});

it('leaves compression off by default', async () => {
  const client = await open({ perMessageDeflate: true });
  expect(client.extensions).toBe('');
});

it('with --deflate, negotiates permessage-deflate and passes the compression cases', { timeout: 60_000 }, async () => {
  expect(parseEchoServerArguments([])).toEqual({ perMessageDeflate: false });
  expect(parseEchoServerArguments(['--deflate'])).toEqual({ perMessageDeflate: true });
  expect(() => parseEchoServerArguments(['--deflat'])).toThrow();
  const compressing = await startEchoServer({ port: 0, ...parseEchoServerArguments(['--deflate']) });
  try {
    const target = `ws://127.0.0.1:${(compressing.address() as AddressInfo).port}/`;
    const client = await connect(target, { perMessageDeflate: true });
    clients.push(client);
    expect(client.extensions).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits=15');
    const report = await runConformance({ target, cases: '12.1.*,13.*.10' });
    expect(report.summary).toMatchObject({ total: 20, pass: 20 });
  } finally {
    for (const client of clients.splice(0)) client.terminate();
    await compressing.close();
  }
});
