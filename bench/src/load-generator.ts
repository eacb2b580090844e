/**
 * The load generator: raw TCP clients that keep a window of masked frames in flight per
 * connection and count echoed bytes, with no WebSocket library in the way, so that it costs
 * far less CPU than the server it drives. Runs in its own process, pinned to its own core.
 *
 *   tsx src/load-generator.ts '{"port":N,"connections":100,"size":16,"window":32,"seconds":2}'
 *   tsx src/load-generator.ts '{"port":N,"connections":10000,"idle":true}'
 *
 * Prints one JSON line: messages, seconds, messagesPerSecond, cpuShare, and latencies (p50/p99 in µs)
 * when window is 1 (after each connection's first WARM_UP_ROUND_TRIPS).
 */
import { createInterface } from 'node:readline';
import { EchoWindow } from './echo-window.js';
import { loadSettingsFromArguments } from './load-settings.js';
import { openRawPeer, type RawPeer } from './raw-peer.js';

const settings = loadSettingsFromArguments();

async function open(count: number): Promise<RawPeer[]> {
  const sockets: RawPeer[] = [];
  // Open in batches so the server's accept queue never overflows.
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, () => openRawPeer(settings.port));
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

/**
 * Round trips of each connection left out of the latency figures: the first messages reach a
 * freshly started server whose code is not optimised yet (with 100 connections × 1 MiB, 100 MiB
 * arrive at once at a cold process), which is start-up cost, not the latency under load.
 */
const WARM_UP_ROUND_TRIPS = 3;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function echoLoad(): Promise<void> {
  const window = settings.window!;
  const echoes = new EchoWindow(settings.size!, window);
  const sockets = await open(settings.connections);
  const latencies: number[] = [];
  let messages = 0;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const { socket } of sockets) {
    let roundTrips = 0;
    let sentAt = process.hrtime.bigint();
    echoes.drive(socket, (replies) => {
      messages += replies;
      if (window === 1) {
        const now = process.hrtime.bigint();
        if (++roundTrips > WARM_UP_ROUND_TRIPS) latencies.push(Number(now - sentAt) / 1000);
        sentAt = now;
      }
    });
  }
  await new Promise((resolve) => setTimeout(resolve, settings.seconds! * 1000));
  echoes.running = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const counted = messages;
  for (const { socket } of sockets) socket.destroy();
  latencies.sort((a, b) => a - b);
  const result = {
    messages: counted,
    seconds,
    messagesPerSecond: counted / seconds,
    cpuShare: (cpu.user + cpu.system) / 1e6 / seconds,
    ...(window === 1 ? { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) } : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function idleLoad(): Promise<void> {
  const sockets = await open(settings.connections);
  process.stdout.write(`${JSON.stringify({ opened: sockets.length })}\n`);
  // Wait until told to close, so the server's memory can be read while all are open.
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
  for (const { socket } of sockets) socket.destroy();
  process.stdout.write(`${JSON.stringify({ closed: true })}\n`);
}

await (settings.idle ? idleLoad() : echoLoad());
process.exit(0);
