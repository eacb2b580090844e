/**
 * End-to-end benchmark of @ws/server beside ws in the same run: each scenario alternates the
 * two servers over several rounds (medians reported), the server pinned to core 0 and the load
 * generator to core 1 when `taskset` exists. Prints a Markdown table and writes
 * bench-results/echo.json. Options: BENCH_ROUNDS (default 3), BENCH_SECONDS (default 2),
 * BENCH_IDLE_CONNECTIONS (default 10000).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 10_000);
const IMPLEMENTATIONS = ['ours', 'ws'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();

function spawnPinned(core: number, args: string[]): ChildProcess {
  const command = [process.execPath, '--import', 'tsx', '--conditions=@ws/source', '--expose-gc', ...args];
  return hasTaskset
    ? spawn('taskset', ['-c', String(core), ...command], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
}

function lines(child: ChildProcess): Interface {
  return createInterface({ input: child.stdout! });
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

async function startServer(implementation: Implementation): Promise<RunningServer> {
  const child = spawnPinned(0, [here('./echo-server.ts'), implementation]);
  const reader = lines(child);
  const { port } = await nextJson<{ port: number }>(reader);
  return { port, child, reader };
}

function stopServer(server: RunningServer): void {
  server.child.stdin!.end();
  server.child.kill();
}

interface LoadResult {
  messagesPerSecond: number;
  cpuShare: number;
  p50?: number;
  p99?: number;
}

async function load(port: number, connections: number, size: number, window: number): Promise<LoadResult> {
  const child = spawnPinned(1, [here('./load-generator.ts'), JSON.stringify({ port, connections, size, window, seconds: SECONDS })]);
  const result = await nextJson<LoadResult>(lines(child));
  await new Promise((resolve) => child.once('exit', resolve));
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Scenario {
  name: string;
  connections: number;
  size: number;
  window: number;
}

const SIZES = [
  ['16 B', 16, 32],
  ['1 KiB', 1024, 16],
  ['64 KiB', 64 * 1024, 2],
  ['1 MiB', 1024 * 1024, 1],
] as const;
const scenarios: Scenario[] = [];
for (const connections of [1, 100]) {
  for (const [label, size, window] of SIZES) scenarios.push({ name: `echo ${label} × ${connections}`, connections, size, window });
}
scenarios.push({ name: 'latency 16 B × 1 (no pipelining)', connections: 1, size: 16, window: 1 });

interface Row {
  scenario: string;
  ours: LoadResult;
  ws: LoadResult;
}
const rows: Row[] = [];

for (const scenario of scenarios) {
  const samples: Record<Implementation, LoadResult[]> = { ours: [], ws: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const implementation of IMPLEMENTATIONS) {
      const server = await startServer(implementation);
      samples[implementation].push(await load(server.port, scenario.connections, scenario.size, scenario.window));
      stopServer(server);
    }
  }
  const summarize = (results: LoadResult[]): LoadResult => ({
    messagesPerSecond: median(results.map((result) => result.messagesPerSecond)),
    cpuShare: median(results.map((result) => result.cpuShare)),
    ...(results[0]!.p50 === undefined
      ? {}
      : { p50: median(results.map((result) => result.p50!)), p99: median(results.map((result) => result.p99!)) }),
  });
  const row = { scenario: scenario.name, ours: summarize(samples.ours), ws: summarize(samples.ws) };
  rows.push(row);
  process.stderr.write(`${row.scenario}: ${Math.round(row.ours.messagesPerSecond)} vs ${Math.round(row.ws.messagesPerSecond)} msg/s\n`);
}

async function idleMemory(implementation: Implementation): Promise<number> {
  const server = await startServer(implementation);
  server.child.stdin!.write('memory\n');
  const before = await nextJson<{ rss: number }>(server.reader);
  const client = spawnPinned(1, [here('./load-generator.ts'), JSON.stringify({ port: server.port, connections: IDLE_CONNECTIONS, idle: true })]);
  const clientReader = lines(client);
  await nextJson(clientReader);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  server.child.stdin!.write('memory\n');
  const after = await nextJson<{ rss: number; connections: number }>(server.reader);
  client.stdin!.write('close\n');
  await new Promise((resolve) => client.once('exit', resolve));
  stopServer(server);
  if (after.connections !== IDLE_CONNECTIONS) throw new Error(`only ${after.connections} connections were open`);
  return (after.rss - before.rss) / IDLE_CONNECTIONS;
}

const memory = { ours: await idleMemory('ours'), ws: await idleMemory('ws') };

const format = (value: number) => Math.round(value).toLocaleString('en-US');
const table = [
  `Node ${process.version}, ${ROUNDS} alternating rounds of ${SECONDS} s, server pinned to core 0, load generator to core 1: ${hasTaskset ? 'yes' : 'no (taskset missing)'}`,
  '',
  '| scenario | @ws/server msg/s | ws msg/s | ratio | load generator CPU (ours / ws) |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    (row) =>
      `| ${row.scenario} | ${format(row.ours.messagesPerSecond)} | ${format(row.ws.messagesPerSecond)} | ${(row.ours.messagesPerSecond / row.ws.messagesPerSecond).toFixed(2)}× | ${(row.ours.cpuShare * 100).toFixed(0)}% / ${(row.ws.cpuShare * 100).toFixed(0)}% |`,
  ),
  '',
  ...rows
    .filter((row) => row.ours.p50 !== undefined)
    .map((row) => `Latency (${row.scenario}): p50 ${row.ours.p50!.toFixed(0)} µs vs ${row.ws.p50!.toFixed(0)} µs; p99 ${row.ours.p99!.toFixed(0)} µs vs ${row.ws.p99!.toFixed(0)} µs`),
  `Idle memory per connection at ${IDLE_CONNECTIONS.toLocaleString('en-US')} connections (RSS growth): @ws/server ${(memory.ours / 1024).toFixed(2)} KiB, ws ${(memory.ws / 1024).toFixed(2)} KiB`,
];
console.log(table.join('\n'));
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/echo.json', JSON.stringify({ node: process.version, rounds: ROUNDS, seconds: SECONDS, rows, memory }, null, 2));
