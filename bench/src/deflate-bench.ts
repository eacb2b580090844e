/**
 * Compressed echo (permessage-deflate, RFC 7692) of @ws/server beside ws in the same run, on
 * 1,000 connections, and the RSS each idle compressed connection costs the server. One file,
 * three roles, each its own process:
 *
 *   tsx src/deflate-bench.ts                                          bundle this file, run everything, print a table
 *   node dist-deflate/deflate-bench.js server ours|ws <policy>           an echo server with compression on
 *   node dist-deflate/deflate-bench.js load '{"port":N,"offer":"...",…}' the load generator
 *
 * Both servers compress at zlib level 1 (our default; ws's default is 6, set to 1 here so that
 * the comparison is of the implementations, not of the level) with the 1024-byte threshold they
 * share. The load generator speaks permessage-deflate itself: it offers
 * `client_no_context_takeover`, so one compressed frame (compressed once with @ws/core) is valid
 * for every message of every connection, and it counts the server's replies by parsing frame
 * headers, inflating the first reply of each connection to check it. Options: BENCH_ROUNDS
 * (default 2), BENCH_SECONDS (default 3), BENCH_CONNECTIONS (default 1000).
 */
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { acceptPerMessageDeflateResponse, parseExtensionOffers, PerMessageDeflate } from '@ws/core';
import { bundle } from './bundle.js';
import { hasTaskset, median } from './measurement.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1000);
/** Messages each connection keeps in flight. */
const WINDOW = 2;

const IMPLEMENTATIONS = ['ours', 'ws'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

/** What the server does with its own context: compress without it (our default) or keep it. */
const ServerPolicy = { NoContextTakeover: 'no-context', ContextTakeover: 'context' } as const;
type ServerPolicy = (typeof ServerPolicy)[keyof typeof ServerPolicy];

/** JSON-like text, the kind of message compression is for: about 2.6 KiB. */
const MESSAGE = Buffer.from(
  JSON.stringify(
    Array.from({ length: 48 }, (_, index) => ({ id: 1000 + index, user: `user-${(index * 7919) % 997}`, online: index % 3 === 0, score: (index * 37) % 101 })),
  ),
);

// ---- Server role ---------------------------------------------------------------------------

async function serve(implementation: Implementation, policy: ServerPolicy): Promise<void> {
  const keepContext = policy === ServerPolicy.ContextTakeover;
  let port: number;
  let connections: () => number;
  if (implementation === 'ws') {
    const { WebSocketServer } = await import('ws');
    const server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: { serverNoContextTakeover: !keepContext, zlibDeflateOptions: { level: 1 }, threshold: 1024 },
    });
    server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary })));
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as { port: number }).port;
    connections = () => server.clients.size;
  } else {
    const { WebSocketServer } = await import('@ws/server');
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { serverNoContextTakeover: !keepContext } });
    server.on('connection', (connection) => connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    port = (server.address() as { port: number }).port;
    connections = () => server.clients.size;
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line !== 'memory') return;
    globalThis.gc?.();
    process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, connections: connections() })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
}

// ---- Load generator role -------------------------------------------------------------------

interface LoadSettings {
  port: number;
  connections: number;
  /** The Sec-WebSocket-Extensions offer ('' for none: the uncompressed baseline). */
  offer: string;
  seconds?: number;
  /** Open the connections, exchange one message on each, and wait for a line on stdin. */
  idle?: boolean;
}

function maskedFrame(firstByte: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length <= 125 ? 2 : length <= 0xffff ? 4 : 10;
  const frame = Buffer.alloc(header + 4 + length);
  frame[0] = firstByte;
  if (length <= 125) frame[1] = 0x80 | length;
  else if (length <= 0xffff) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const key = randomBytes(4);
  key.copy(frame, header);
  for (let index = 0; index < length; index++) frame[header + 4 + index] = payload[index]! ^ key[index & 3]!;
  return frame;
}

/** Counts the server's messages from its frame headers (server frames are unmasked), across reads. */
class ReplyCounter {
  #pending: Buffer = Buffer.alloc(0);
  #inMessage = false;
  compressed = 0;
  /** The first compressed reply's payload, kept to check that it inflates to the message. */
  firstCompressed: Buffer | undefined;

  /** Takes a chunk; returns how many messages it completed. */
  push(chunk: Buffer): number {
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let offset = 0;
    let completed = 0;
    while (data.length - offset >= 2) {
      const first = data[offset]!;
      const short = data[offset + 1]! & 0x7f;
      let header = 2;
      let length = short;
      if (short === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (short === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (data.length - offset < header + length) break;
      const opcode = first & 0x0f;
      if (opcode < 8) {
        if (!this.#inMessage && (first & 0x40) !== 0) {
          this.compressed++;
          this.firstCompressed ??= Buffer.from(data.subarray(offset + header, offset + header + length));
        }
        this.#inMessage = (first & 0x80) === 0;
        if (!this.#inMessage) completed++;
      }
      offset += header + length;
    }
    this.#pending = offset === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(offset));
    return completed;
  }
}

interface OpenConnection {
  socket: Socket;
  counter: ReplyCounter;
  extensions: string;
}

function handshake(socket: Socket, offer: string): Promise<{ rest: Buffer; extensions: string }> {
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      (offer === '' ? '' : `Sec-WebSocket-Extensions: ${offer}\r\n`) +
      '\r\n',
  );
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const head = received.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(head));
      const extensions = /^sec-websocket-extensions: *(.*)$/im.exec(head)?.[1]?.trim() ?? '';
      resolve({ rest: received.subarray(end + 4), extensions });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

async function openAll(settings: LoadSettings): Promise<OpenConnection[]> {
  const opened: OpenConnection[] = [];
  // In batches, so that the server's accept queue never overflows.
  for (let start = 0; start < settings.connections; start += 200) {
    const batch = Array.from({ length: Math.min(200, settings.connections - start) }, async () => {
      const socket = connect({ port: settings.port, host: '127.0.0.1', noDelay: true });
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const { rest, extensions } = await handshake(socket, settings.offer);
      if (settings.offer !== '' && !extensions.startsWith('permessage-deflate')) {
        throw new Error(`permessage-deflate was not negotiated: "${extensions}"`);
      }
      const counter = new ReplyCounter();
      if (rest.length > 0) counter.push(rest);
      return { socket, counter, extensions };
    });
    opened.push(...(await Promise.all(batch)));
  }
  return opened;
}

/**
 * The message compressed once, valid for every message of every connection: the offer has
 * `client_no_context_takeover`, so each message starts from an empty window.
 */
function compressedFrame(extensions: string): Buffer {
  const deflate = acceptPerMessageDeflateResponse(parseExtensionOffers(extensions)[0]!, { clientNoContextTakeover: true, threshold: 0 });
  const payload = Buffer.from(deflate.encode(MESSAGE, true));
  deflate.dispose();
  return maskedFrame(0xc1, payload);
}

/** The server's first compressed reply on a connection inflates to the message (checked on a sample). */
function checkReplies(connections: readonly OpenConnection[]): void {
  for (const { counter, extensions } of connections.slice(0, 20)) {
    if (counter.firstCompressed === undefined) throw new Error('the server did not compress its reply');
    const deflate = new PerMessageDeflate({ decompressNoContextTakeover: extensions.includes('server_no_context_takeover') });
    const inflated = deflate.decode(counter.firstCompressed, true, 1 << 20);
    deflate.dispose();
    if (inflated instanceof Error || !Buffer.from(inflated).equals(MESSAGE)) throw new Error('a compressed reply did not inflate to the message');
  }
}

async function load(settings: LoadSettings): Promise<void> {
  const connections = await openAll(settings);
  const compressing = settings.offer !== '';
  const frame = compressing ? compressedFrame(connections[0]!.extensions) : maskedFrame(0x81, MESSAGE);
  if (settings.idle === true) {
    // One message each, so that every engine a connection keeps has been created, then idle.
    let waiting = connections.length;
    await new Promise<void>((resolve) => {
      for (const { socket, counter } of connections) {
        socket.on('data', (chunk: Buffer) => {
          if (counter.push(chunk) > 0 && --waiting === 0) resolve();
        });
        socket.write(frame);
      }
    });
    if (compressing) checkReplies(connections);
    process.stdout.write(`${JSON.stringify({ opened: connections.length, wireBytes: frame.length })}\n`);
    await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
    for (const { socket } of connections) socket.destroy();
    return;
  }
  const burst = Buffer.concat(Array.from({ length: WINDOW }, () => frame));
  let messages = 0;
  let running = true;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const { socket, counter } of connections) {
    socket.on('data', (chunk: Buffer) => {
      const replies = counter.push(chunk);
      if (replies === 0) return;
      messages += replies;
      if (!running) return;
      if (replies === WINDOW) socket.write(burst);
      else for (let index = 0; index < replies; index++) socket.write(frame);
    });
    socket.write(burst);
  }
  await new Promise((resolve) => setTimeout(resolve, settings.seconds! * 1000));
  running = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const counted = messages;
  checkReplies(connections);
  const compressed = connections.reduce((sum, { counter }) => sum + counter.compressed, 0);
  for (const { socket } of connections) socket.destroy();
  process.stdout.write(
    `${JSON.stringify({
      messagesPerSecond: counted / seconds,
      compressedShare: compressed / Math.max(1, counted),
      cpuShare: (cpu.user + cpu.system) / 1e6 / seconds,
      wireBytes: frame.length,
    })}\n`,
  );
}

// ---- Orchestrator --------------------------------------------------------------------------

const here = fileURLToPath(import.meta.url);

/** The server and load roles run from a bundle of this file (see `bundle.ts` for why). */
const bundled = fileURLToPath(new URL('../dist-deflate/deflate-bench.js', import.meta.url));

async function buildBundle(): Promise<void> {
  await bundle({ 'deflate-bench': here }, fileURLToPath(new URL('../dist-deflate', import.meta.url)));
}

function spawnPinned(core: number, args: string[]): ChildProcess {
  const command = [process.execPath, '--expose-gc', bundled, ...args];
  return hasTaskset()
    ? spawn('taskset', ['-c', String(core), ...command], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
}

async function nextJson<T>(reader: Interface): Promise<T> {
  const [line] = (await new Promise((resolve) => reader.once('line', (value) => resolve([value])))) as [string];
  return JSON.parse(line) as T;
}

interface RunningServer {
  port: number;
  child: ChildProcess;
  reader: Interface;
}

async function startServer(implementation: Implementation, policy: ServerPolicy): Promise<RunningServer> {
  const child = spawnPinned(0, ['server', implementation, policy]);
  const reader = createInterface({ input: child.stdout! });
  const { port } = await nextJson<{ port: number }>(reader);
  return { port, child, reader };
}

function stopServer(server: RunningServer): void {
  server.child.stdin!.end();
  server.child.kill();
}

interface LoadResult {
  messagesPerSecond: number;
  compressedShare: number;
  cpuShare: number;
  wireBytes: number;
}

/** The offers: both sides without context, or the client without it and the server as its policy says. */
const NO_CONTEXT_OFFER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits';
const CLIENT_NO_CONTEXT_OFFER = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';

interface Scenario {
  readonly name: string;
  readonly policy: ServerPolicy;
  readonly offer: string;
}

const THROUGHPUT: readonly Scenario[] = [
  { name: 'server_no_context_takeover', policy: ServerPolicy.NoContextTakeover, offer: NO_CONTEXT_OFFER },
  { name: 'server keeps its context', policy: ServerPolicy.ContextTakeover, offer: CLIENT_NO_CONTEXT_OFFER },
];

/**
 * Idle memory, per what each side keeps. "Browser offer": the client may keep its context (it
 * offers only `client_max_window_bits`), so the server keeps an inflater; the generator sends
 * one message, which from a fresh context is the same bytes with or without context takeover.
 */
const IDLE: readonly Scenario[] = [
  { name: 'baseline: compression on, not offered', policy: ServerPolicy.NoContextTakeover, offer: '' },
  { name: 'no context takeover either way', policy: ServerPolicy.NoContextTakeover, offer: NO_CONTEXT_OFFER },
  { name: 'browser offer, server default (client keeps context)', policy: ServerPolicy.NoContextTakeover, offer: 'permessage-deflate; client_max_window_bits' },
  { name: 'browser offer, server keeps context too', policy: ServerPolicy.ContextTakeover, offer: 'permessage-deflate; client_max_window_bits' },
];

async function runLoad(port: number, settings: Omit<LoadSettings, 'port'>): Promise<{ child: ChildProcess; reader: Interface }> {
  const child = spawnPinned(1, ['load', JSON.stringify({ port, ...settings })]);
  return { child, reader: createInterface({ input: child.stdout! }) };
}

async function throughput(implementation: Implementation, scenario: Scenario): Promise<LoadResult> {
  const server = await startServer(implementation, scenario.policy);
  const { child, reader } = await runLoad(server.port, { connections: CONNECTIONS, offer: scenario.offer, seconds: SECONDS });
  const result = await nextJson<LoadResult>(reader);
  await new Promise((resolve) => child.once('exit', resolve));
  stopServer(server);
  return result;
}

/** Connections opened (one message each) before the first reading, so that one-time costs stay out. */
const WARM_CONNECTIONS = 200;

/**
 * RSS growth per connection between WARM_CONNECTIONS and WARM_CONNECTIONS + CONNECTIONS open
 * connections, each after a full GC: code compiled and pools made by the first connections are
 * not counted, as in `run.ts`'s memory section.
 */
async function idleMemory(implementation: Implementation, scenario: Scenario): Promise<number> {
  const server = await startServer(implementation, scenario.policy);
  const warm = await runLoad(server.port, { connections: WARM_CONNECTIONS, offer: scenario.offer, idle: true });
  await nextJson(warm.reader);
  await new Promise((resolve) => setTimeout(resolve, 500));
  server.child.stdin!.write('memory\n');
  const before = await nextJson<{ rss: number }>(server.reader);
  const { child, reader } = await runLoad(server.port, { connections: CONNECTIONS, offer: scenario.offer, idle: true });
  await nextJson(reader);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  server.child.stdin!.write('memory\n');
  const after = await nextJson<{ rss: number; connections: number }>(server.reader);
  for (const load of [child, warm.child]) {
    load.stdin!.write('close\n');
    await new Promise((resolve) => load.once('exit', resolve));
  }
  stopServer(server);
  if (after.connections !== WARM_CONNECTIONS + CONNECTIONS) throw new Error(`only ${after.connections} connections were open`);
  return (after.rss - before.rss) / CONNECTIONS;
}


async function orchestrate(): Promise<void> {
  await buildBundle();
  const rows: { scenario: string; ours: LoadResult; ws: LoadResult }[] = [];
  for (const scenario of THROUGHPUT) {
    const samples: Record<Implementation, LoadResult[]> = { ours: [], ws: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const implementation of IMPLEMENTATIONS) samples[implementation].push(await throughput(implementation, scenario));
    }
    const summarize = (results: LoadResult[]): LoadResult => ({
      messagesPerSecond: median(results.map((result) => result.messagesPerSecond)),
      compressedShare: median(results.map((result) => result.compressedShare)),
      cpuShare: median(results.map((result) => result.cpuShare)),
      wireBytes: results[0]!.wireBytes,
    });
    const row = { scenario: scenario.name, ours: summarize(samples.ours), ws: summarize(samples.ws) };
    rows.push(row);
    process.stderr.write(`${row.scenario}: ${Math.round(row.ours.messagesPerSecond)} vs ${Math.round(row.ws.messagesPerSecond)} msg/s\n`);
  }
  const memory: { scenario: string; ours: number; ws: number }[] = [];
  for (const scenario of IDLE) {
    const entry = { scenario: scenario.name, ours: await idleMemory('ours', scenario), ws: await idleMemory('ws', scenario) };
    memory.push(entry);
    process.stderr.write(`${entry.scenario}: ${(entry.ours / 1024).toFixed(1)} vs ${(entry.ws / 1024).toFixed(1)} KiB per connection\n`);
  }

  const format = (value: number) => Math.round(value).toLocaleString('en-US');
  const table = [
    `Node ${process.version}, ${CONNECTIONS.toLocaleString('en-US')} connections, a ${MESSAGE.length}-byte JSON text message (${rows[0]?.ours.wireBytes ?? '?'} bytes compressed), ${WINDOW} in flight per connection, zlib level 1 on both servers; ${ROUNDS} alternating rounds of ${SECONDS} s (medians); server pinned to core 0, load generator to core 1: ${hasTaskset() ? 'yes' : 'no (taskset missing)'}`,
    '',
    '| compressed echo | @ws/server msg/s | ws msg/s | ratio | replies compressed (ours / ws) | load generator CPU (ours / ws) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${format(row.ours.messagesPerSecond)} | ${format(row.ws.messagesPerSecond)} | ${(row.ours.messagesPerSecond / row.ws.messagesPerSecond).toFixed(2)}× | ${(row.ours.compressedShare * 100).toFixed(0)}% / ${(row.ws.compressedShare * 100).toFixed(0)}% | ${(row.ours.cpuShare * 100).toFixed(0)}% / ${(row.ws.cpuShare * 100).toFixed(0)}% |`,
    ),
    '',
    `| RSS per idle compressed connection (growth from ${WARM_CONNECTIONS} to ${(WARM_CONNECTIONS + CONNECTIONS).toLocaleString('en-US')} connections, one message each) | @ws/server | ws |`,
    '|---|---:|---:|',
    ...memory.map((entry) => `| ${entry.scenario} | ${(entry.ours / 1024).toFixed(1)} KiB | ${(entry.ws / 1024).toFixed(1)} KiB |`),
  ];
  console.log(table.join('\n'));
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/deflate.json',
    JSON.stringify({ node: process.version, connections: CONNECTIONS, rounds: ROUNDS, seconds: SECONDS, rows, memory }, null, 2),
  );
}

const [role, ...rest] = process.argv.slice(2);
if (role === 'server') {
  await serve(rest[0] as Implementation, rest[1] as ServerPolicy);
} else if (role === 'load') {
  await load(JSON.parse(rest[0]!) as LoadSettings);
  process.exit(0);
} else {
  await orchestrate();
}
