/**
 * Picks the default `fragmentSize`: a 16 MiB echo through the server for several fragment
 * sizes, and how long a pong waits behind a 16 MiB message the server is sending.
 *
 *   pnpm --filter @ws/server bench            (SIZES=64,128,Infinity ROUNDS=10 to narrow it)
 *
 * Throughput favours large fragments (fewer frames, fewer drains); control-frame latency favours
 * small ones (a pong waits behind at most one fragment). The default is where throughput has
 * stopped improving much while the pong latency is still a fragment's worth, not a message's.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { WebSocketServer } from '../src/index.js';

const MESSAGE_SIZE = 16 * 1024 * 1024;
const ROUNDS = Number(process.env['ROUNDS'] ?? 8);
/** Fragment sizes in KiB. */
const SIZES = (process.env['SIZES'] ?? '16,64,128,256,512,1024,Infinity')
  .split(',')
  .map((size) => (size === 'Infinity' ? Infinity : Number(size) * 1024));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(fragmentSize: number): Promise<{ echoMs: number; pongMs: number }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', fragmentSize, heartbeat: false });
  await once(server, 'listening');
  const payload = Buffer.alloc(MESSAGE_SIZE, 0x61);
  server.on('connection', (connection) => {
    connection.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'push') connection.send(payload);
      else connection.send(data, { binary: isBinary });
    });
  });
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  await once(client, 'open');

  const echoTimes: number[] = [];
  for (let round = 0; round < ROUNDS + 2; round++) {
    const started = performance.now();
    client.send(payload);
    await once(client, 'message');
    if (round >= 2) echoTimes.push(performance.now() - started);
  }

  const pongTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    client.send('push');
    // Let the server start writing the 16 MiB message, then ask for a pong.
    await new Promise((resolve) => setTimeout(resolve, 2));
    const started = performance.now();
    const pong = once(client, 'pong').then(() => performance.now() - started);
    client.ping();
    const message = once(client, 'message');
    pongTimes.push(await pong);
    await message;
  }

  client.close();
  await once(client, 'close');
  await server.close();
  return { echoMs: median(echoTimes), pongMs: median(pongTimes) };
}

const rows: string[] = [];
let baseline: number | undefined;
for (const size of SIZES) {
  const { echoMs, pongMs } = await measure(size);
  baseline ??= echoMs;
  const label = size === Infinity ? 'Infinity' : `${size / 1024} KiB`;
  const throughput = ((2 * MESSAGE_SIZE) / (echoMs / 1000) / 1024 / 1024).toFixed(0);
  rows.push(`| ${label} | ${echoMs.toFixed(1)} ms | ${throughput} MiB/s | ${pongMs.toFixed(2)} ms |`);
}
console.log(`16 MiB echo, median of ${ROUNDS} rounds (ws client, loopback)\n`);
console.log('| fragmentSize | echo round trip | throughput | pong behind a 16 MiB send |');
console.log('|---|---|---|---|');
for (const row of rows) console.log(row);
