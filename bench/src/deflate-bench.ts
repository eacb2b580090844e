/**
 * Compressed echo (permessage-deflate, RFC 7692) of @ws/server beside ws in the same run, on
 * 1,000 connections, and the RSS each idle compressed connection costs the server. One entry,
 * three roles, each its own process; this file orchestrates and reports, and dispatches to the
 * server role (`compressed-echo-server.ts`) and the load role (`compressed-echo-load.ts`):
 *
 *   tsx src/deflate-bench.ts                                          bundle this entry, run everything, print a table
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
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.js';
import { generateCompressedLoad, type LoadResult, type LoadSettings, MESSAGE, WINDOW } from './compressed-echo-load.js';
import { IMPLEMENTATIONS, type Implementation, ServerPolicy, serveCompressedEcho } from './compressed-echo-server.js';
import { formatNumber, hasTaskset, median } from './measurement.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1000);

const here = fileURLToPath(import.meta.url);

/** The server and load roles run from a bundle of this entry (see `bundle.ts` for why). */
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

  const table = [
    `Node ${process.version}, ${CONNECTIONS.toLocaleString('en-US')} connections, a ${MESSAGE.length}-byte JSON text message (${rows[0]?.ours.wireBytes ?? '?'} bytes compressed), ${WINDOW} in flight per connection, zlib level 1 on both servers; ${ROUNDS} alternating rounds of ${SECONDS} s (medians); server pinned to core 0, load generator to core 1: ${hasTaskset() ? 'yes' : 'no (taskset missing)'}`,
    '',
    '| compressed echo | @ws/server msg/s | ws msg/s | ratio | replies compressed (ours / ws) | load generator CPU (ours / ws) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${formatNumber(row.ours.messagesPerSecond)} | ${formatNumber(row.ws.messagesPerSecond)} | ${(row.ours.messagesPerSecond / row.ws.messagesPerSecond).toFixed(2)}× | ${(row.ours.compressedShare * 100).toFixed(0)}% / ${(row.ws.compressedShare * 100).toFixed(0)}% | ${(row.ours.cpuShare * 100).toFixed(0)}% / ${(row.ws.cpuShare * 100).toFixed(0)}% |`,
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
  await serveCompressedEcho(rest[0] as Implementation, rest[1] as ServerPolicy);
} else if (role === 'load') {
  await generateCompressedLoad(JSON.parse(rest[0]!) as LoadSettings);
  process.exit(0);
} else {
  await orchestrate();
}
