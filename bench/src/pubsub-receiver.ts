/**
 * The subscribers of the pubsub section: `connections` `ws` clients, spread round-robin over the
 * servers' ports, each subscribed to `topics` by its URL (`/?topics=a,b`).
 *   node dist/pubsub-receiver.js '{"ports":[N,M],"connections":10000,"topics":["news"]}'
 * Prints `{"opened":N}` once every connection is open, then answers lines on stdin:
 *   `report`: the messages received since the last `reset`, when the last arrived, and the
 *       p50/p99 of their delivery latency (receive time minus the send time the message starts
 *       with, both performance.timeOrigin + now(), in ms);
 *   `reset`: forgets what was received;
 *   `close`: closes every connection and exits.
 */
import type { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const settings = JSON.parse(process.argv[2]!) as { ports: number[]; connections: number; topics: string[] };
const BATCH = 500;

let latencies: number[] = [];
let last = 0;
const sockets: WebSocket[] = [];

function open(index: number): Promise<void> {
  const port = settings.ports[index % settings.ports.length]!;
  const socket = new WebSocket(`ws://127.0.0.1:${port}/?topics=${settings.topics.join(',')}`, { perMessageDeflate: false });
  sockets.push(socket);
  socket.on('message', (data: Buffer) => {
    last = performance.timeOrigin + performance.now();
    latencies.push(last - data.readDoubleLE(0));
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
}

for (let first = 0; first < settings.connections; first += BATCH) {
  const batch: Promise<void>[] = [];
  for (let index = first; index < Math.min(first + BATCH, settings.connections); index++) batch.push(open(index));
  await Promise.all(batch);
}
process.stdout.write(`${JSON.stringify({ opened: sockets.length })}\n`);

const percentile = (sorted: readonly number[], share: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? Number.NaN;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'report') {
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({ received: sorted.length, last, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) })}\n`);
  } else if (line === 'reset') {
    latencies = [];
  } else if (line === 'close') {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
