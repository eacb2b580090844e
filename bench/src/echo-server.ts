/**
 * A bare echo server for the benchmark, one implementation per process:
 *   node dist/echo-server.js ours|h2c|ws|minimal|net
 * `h2c` is @ws/server attached to a Node `http2.createServer()` (HTTP/2 without TLS, Node's
 * default settings), so that its WebSockets are extended CONNECT streams (RFC 8441).
 * `minimal` is the Node ceiling of the echo figures: framing only, on the same upgraded socket
 * (see minimal-echo.ts).
 * `net` is the floor for the memory figures: an HTTP server that answers the upgrade with a
 * 101 and keeps the socket, reading and dropping whatever comes (no WebSocket at all).
 * Prints `{"port":N}` once listening, then answers lines on stdin, one JSON line each:
 *   `memory`:  rss, heapUsed, heapTotal, external, arrayBuffers and the open connections, after a full GC;
 *   `memory-as-is`: the same without the GC, as a process reads it in production;
 *   `heap-spaces`: the V8 heap's spaces, their committed and used bytes, without a GC;
 *   `cpu`:     user and system CPU microseconds since the previous `cpu` line;
 *   `broadcast SIZE REPEATS`: sends one SIZE-byte binary message to every connection REPEATS
 *              times (ours: `server.broadcast`, framed once; ws: a loop of `client.send` over
 *              `clients`) and reports, per broadcast, the time of the call, the time until every
 *              socket had handed its bytes to the kernel, and the bytes the call allocated.
 */
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage } from 'node:http';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from '@ws/server';
import { startMinimalEcho } from './minimal-echo.js';

const implementation = process.argv[2];
const MAX_MESSAGE = 64 * 1024 * 1024;

interface Running {
  readonly port: number;
  readonly connections: () => number;
  /** Sends `data` to every connection. */
  readonly broadcast: (data: Buffer) => void;
  /** Bytes written by the application and not yet handed to the kernel, over every connection. */
  readonly buffered: () => number;
}

async function startWs(): Promise<Running> {
  const { WebSocketServer } = await import('ws');
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: MAX_MESSAGE, perMessageDeflate: false });
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => server.clients.size,
    broadcast: (data) => {
      // What ws's documentation shows for a broadcast: each client frames and writes the message.
      for (const client of server.clients) client.send(data, { binary: true });
    },
    buffered: () => {
      let total = 0;
      for (const client of server.clients) total += client.bufferedAmount;
      return total;
    },
  };
}

/** @ws/server as an echo server on an HTTP/1.1 server of its own. */
async function startOurs(): Promise<Running> {
  const { WebSocketServer } = await import('@ws/server');
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxMessageSize: MAX_MESSAGE, maxFrameSize: MAX_MESSAGE });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return echoing(server, (server.address() as { port: number }).port);
}

/** @ws/server as an echo server on a Node `http2.createServer()` (h2c, Node's default settings). */
async function startOursOverH2c(): Promise<Running> {
  const { createServer: createHttp2Server } = await import('node:http2');
  const { WebSocketServer } = await import('@ws/server');
  const http2 = createHttp2Server();
  const server = new WebSocketServer({ server: http2, maxMessageSize: MAX_MESSAGE, maxFrameSize: MAX_MESSAGE });
  await new Promise<void>((resolve) => http2.listen(0, '127.0.0.1', resolve));
  return echoing(server, (http2.address() as { port: number }).port);
}

/** Makes `server` echo every message, and describes it to the benchmark. */
function echoing(server: WebSocketServer, port: number): Running {
  server.on('connection', (connection) => {
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  });
  return {
    port,
    connections: () => server.clients.size,
    broadcast: (data) => {
      server.broadcast(data, { binary: true });
    },
    buffered: () => {
      let total = 0;
      for (const connection of server.clients) total += connection.bufferedAmount;
      return total;
    },
  };
}

function ignore(): void {}

/**
 * An HTTP server that hands every upgrade request to `handle` and keeps the upgraded sockets
 * until they close; it has no broadcast. `label` names it in errors.
 */
async function startOnUpgrade(label: string, handle: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): Promise<Running> {
  const sockets = new Set<Duplex>();
  const server = createServer();
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handle(request, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => sockets.size,
    broadcast: () => {
      throw new Error(`${label} has no broadcast`);
    },
    buffered: () => 0,
  };
}

/** The floor of the memory figures: a 101, then whatever comes is read and dropped. */
function startNet(): Promise<Running> {
  return startOnUpgrade('net', (_request, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', ignore);
    socket.on('error', ignore);
  });
}

/** The Node ceiling of the echo figures (minimal-echo.ts). */
function startMinimal(): Promise<Running> {
  return startOnUpgrade('minimal', startMinimalEcho);
}

const starters: Record<string, () => Promise<Running>> = { ours: startOurs, h2c: startOursOverH2c, ws: startWs, minimal: startMinimal, net: startNet };
const starter = starters[implementation ?? ''];
if (starter === undefined) throw new Error(`usage: echo-server.js ours|h2c|ws|minimal|net (got ${implementation})`);
const running = await starter();

let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

interface BroadcastSample {
  readonly callMs: number;
  readonly flushMs: number;
  /** Heap bytes allocated by the call (objects, Buffer headers), when no GC ran during it. */
  readonly heapBytes: number | undefined;
  /** ArrayBuffer bytes allocated by the call (frames, headers). */
  readonly bufferBytes: number;
}

async function measureBroadcasts(size: number, repeats: number): Promise<BroadcastSample[]> {
  const data = Buffer.alloc(size, 0x62);
  const samples: BroadcastSample[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    while (running.buffered() > 0) await nextTurn();
    globalThis.gc?.();
    await nextTurn();
    const collectionsBefore = collections;
    const before = process.memoryUsage();
    const start = process.hrtime.bigint();
    running.broadcast(data);
    const called = process.hrtime.bigint();
    const after = process.memoryUsage();
    const collected = collections !== collectionsBefore;
    while (running.buffered() > 0) await nextTurn();
    const flushed = process.hrtime.bigint();
    samples.push({
      callMs: Number(called - start) / 1e6,
      flushMs: Number(flushed - start) / 1e6,
      heapBytes: collected ? undefined : after.heapUsed - before.heapUsed,
      bufferBytes: after.arrayBuffers - before.arrayBuffers,
    });
  }
  return samples;
}

process.stdout.write(`${JSON.stringify({ port: running.port })}\n`);
let cpuBefore = process.cpuUsage();
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...args] = line.split(' ');
  if (command === 'memory' || command === 'memory-as-is') {
    if (command === 'memory') globalThis.gc?.();
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const connections = running.connections();
    process.stdout.write(`${JSON.stringify({ rss, heapUsed, heapTotal, external, arrayBuffers, connections })}\n`);
  } else if (command === 'heap-spaces') {
    const spaces = getHeapSpaceStatistics().map((space) => ({ name: space.space_name, size: space.space_size, used: space.space_used_size }));
    process.stdout.write(`${JSON.stringify(spaces)}\n`);
  } else if (command === 'cpu') {
    const cpu = process.cpuUsage(cpuBefore);
    cpuBefore = process.cpuUsage();
    process.stdout.write(`${JSON.stringify(cpu)}\n`);
  } else if (command === 'broadcast') {
    const [size, repeats] = args.map(Number);
    void measureBroadcasts(size!, repeats!).then((samples) => {
      process.stdout.write(`${JSON.stringify({ connections: running.connections(), samples })}\n`);
    });
  }
});
process.stdin.on('end', () => process.exit(0));
