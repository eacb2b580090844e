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
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Opcode } from '@ws/core';
import { maskedFrame } from './raw-peer.js';

interface Settings {
  port: number;
  connections: number;
  size?: number;
  window?: number;
  seconds?: number;
  idle?: boolean;
}

const settings = JSON.parse(process.argv[2]!) as Settings;

function handshake(socket: Socket): Promise<Buffer> {
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      if (!received.subarray(0, 12).toString().includes('101')) reject(new Error(received.toString()));
      else resolve(received.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

async function open(count: number): Promise<{ socket: Socket; rest: Buffer }[]> {
  const sockets: { socket: Socket; rest: Buffer }[] = [];
  // Open in batches so the server's accept queue never overflows.
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, async () => {
      const socket = connect({ port: settings.port, host: '127.0.0.1', noDelay: true });
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      return { socket, rest: await handshake(socket) };
    });
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
  const size = settings.size!;
  const window = settings.window!;
  const frame = maskedFrame({ opcode: Opcode.Binary, payload: Buffer.alloc(size, 0x61) });
  const burst = Buffer.concat(Array.from({ length: window }, () => frame));
  const replyLength = (size <= 125 ? 2 : size <= 0xffff ? 4 : 10) + size;
  const sockets = await open(settings.connections);
  const latencies: number[] = [];
  let messages = 0;
  let running = true;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const { socket } of sockets) {
    let pendingBytes = 0;
    let roundTrips = 0;
    let sentAt = process.hrtime.bigint();
    socket.on('data', (chunk: Buffer) => {
      pendingBytes += chunk.length;
      const replies = Math.floor(pendingBytes / replyLength);
      if (replies === 0) return;
      pendingBytes -= replies * replyLength;
      messages += replies;
      if (window === 1) {
        const now = process.hrtime.bigint();
        if (++roundTrips > WARM_UP_ROUND_TRIPS) latencies.push(Number(now - sentAt) / 1000);
        sentAt = now;
      }
      if (!running) return;
      // Refill the window with one write: one frame per reply, as many as came back.
      socket.write(replies === window ? burst : burst.subarray(0, replies * frame.length));
    });
    socket.write(burst);
  }
  await new Promise((resolve) => setTimeout(resolve, settings.seconds! * 1000));
  running = false;
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
