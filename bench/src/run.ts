/**
 * End-to-end benchmarks of @ws/server and @ws/client beside ws, in the same run. See README.md
 * for the method and its caveats. Prints a Markdown table per section and writes
 * bench-results/echo.json.
 *
 * The processes run a bundle of the sources made here with tsup (what the packages publish,
 * without `keepNames`), not the sources through tsx: tsx compiles with esbuild's `keepNames`,
 * which wraps every function expression in a runtime `name` assignment, a cost (memory per
 * closure, time per call) the published packages do not have and ws does not pay either.
 *
 * Options (environment):
 *   BENCH_ROUNDS            alternating A/B rounds per scenario (default 3)
 *   BENCH_SECONDS           seconds of load per round (default 2)
 *   BENCH_IDLE_CONNECTIONS  connections of the memory and broadcast sections (default 10000)
 *   BENCH_SECTIONS          comma-separated subset of echo,memory,broadcast,client,pubsub,http2 (default all)
 *   BENCH_PUBSUB_CONNECTIONS  subscribers of the pubsub section (default 10000)
 *   BENCH_HTTP2_CONNECTIONS   WebSockets of the http2 section, on one session and over TCP (default 1000)
 *   BENCH_LOAD=node           the echo section's load from load-generator.ts even where a C compiler is present
 *   CC                        the C compiler that builds load-generator.c (default cc)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.js';
import { Child } from './child.js';
import { runEchoSection } from './echo-section.js';
import { runHttp2Section } from './http2-section.js';
import { runPubsubSection } from './pubsub-section.js';
import { formatNumber, formatPercent, hasTaskset, median } from './measurement.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 10_000);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'echo,memory,broadcast,client,pubsub,http2').split(','));
/** Only the echo and client scenarios whose name contains this text (e.g. `latency`, `16 B`). */
const SCENARIO_FILTER = process.env.BENCH_SCENARIOS ?? '';
/** Opened before the first memory reading, so that one-time costs (code, pools) are not counted per connection. */
const WARM_CONNECTIONS = 1_000;
const BROADCAST_SIZE = 1024;
const BROADCAST_REPEATS = 10;
const BROADCAST_WARM_UP = 3;

const benchDirectory = fileURLToPath(new URL('..', import.meta.url));
const outDirectory = fileURLToPath(new URL('../dist', import.meta.url));


// ---- Build -------------------------------------------------------------------------------

await bundle(
  {
    'echo-server': `${benchDirectory}src/echo-server.ts`,
    'load-generator': `${benchDirectory}src/load-generator.ts`,
    'client-load': `${benchDirectory}src/client-load.ts`,
    'pubsub-server': `${benchDirectory}src/pubsub-server.ts`,
    'pubsub-receiver': `${benchDirectory}src/pubsub-receiver.ts`,
    'http2-load-generator': `${benchDirectory}src/http2-load-generator.ts`,
  },
  outDirectory,
);

// ---- Processes ---------------------------------------------------------------------------

const IMPLEMENTATIONS = ['ours', 'ws'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

/** Starts a server on core 0; resolves with it and its port. */
async function startServer(implementation: string, nodeFlags: readonly string[] = []): Promise<{ server: Child; port: number }> {
  const server = new Child(0, 'echo-server', [implementation], nodeFlags);
  const { port } = await server.next<{ port: number }>();
  return { server, port };
}

/** Opens `connections` idle connections from core 1; resolves once they are all open. */
async function openIdle(port: number, connections: number): Promise<Child> {
  const generator = new Child(1, 'load-generator', [JSON.stringify({ port, connections, idle: true })]);
  await generator.next();
  return generator;
}

async function closeIdle(generator: Child): Promise<void> {
  generator.process.stdin!.write('close\n');
  await generator.exited;
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const report: Record<string, unknown> = {
  node: process.version,
  pinned: hasTaskset(),
  rounds: ROUNDS,
  seconds: SECONDS,
};
const markdown: string[] = [
  `Node ${process.version}; servers pinned to core 0 and load to core 1: ${hasTaskset() ? 'yes' : 'no (taskset missing)'}; ${ROUNDS} alternating rounds of ${SECONDS} s, medians.`,
];

// ---- Echo throughput and latency ---------------------------------------------------------

if (SECTIONS.has('echo')) {
  const { rows, lines } = await runEchoSection({ rounds: ROUNDS, seconds: SECONDS, scenarioFilter: SCENARIO_FILTER, outDirectory, startServer, log });
  report.echo = rows;
  markdown.push(...lines);
}

// ---- Idle memory -------------------------------------------------------------------------

interface MemoryReading {
  rss: number;
  heapUsed: number;
  connections: number;
}

/**
 * Bytes per connection, two ways. `rss`/`heap`: the growth between WARM_CONNECTIONS and
 * WARM_CONNECTIONS + IDLE_CONNECTIONS open connections, each read after a full GC: what one
 * more connection costs, without one-time costs. `fromZeroRss`/`fromZeroHeap`: the growth from
 * the freshly started server to all of them open, divided by their number, read without forcing a
 * GC, as a process watching its own memory in production sees it (code compiled and pages touched
 * by the first connections, and garbage not yet collected, included).
 */
async function idleMemory(implementation: string): Promise<{ rss: number; heap: number; fromZeroRss: number; fromZeroHeap: number }> {
  const { server, port } = await startServer(implementation);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const start = await server.ask<MemoryReading>('memory-as-is');
  const warm = await openIdle(port, WARM_CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await server.ask<MemoryReading>('memory');
  const idle = await openIdle(port, IDLE_CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const asIs = await server.ask<MemoryReading>('memory-as-is');
  const after = await server.ask<MemoryReading>('memory');
  await Promise.all([closeIdle(warm), closeIdle(idle)]);
  await server.stop();
  const open = WARM_CONNECTIONS + IDLE_CONNECTIONS;
  if (after.connections !== open) {
    throw new Error(`${implementation}: only ${after.connections} connections were open`);
  }
  return {
    rss: (after.rss - before.rss) / IDLE_CONNECTIONS,
    heap: (after.heapUsed - before.heapUsed) / IDLE_CONNECTIONS,
    fromZeroRss: (asIs.rss - start.rss) / open,
    fromZeroHeap: (asIs.heapUsed - start.heapUsed) / open,
  };
}

if (SECTIONS.has('memory')) {
  const kinds = [
    ['ours', '@ws/server (heartbeat on, its default)'],
    ['ws', 'ws'],
    ['net', 'floor: a bare Node socket after the HTTP upgrade, no WebSocket'],
  ] as const;
  const samples = new Map<string, Awaited<ReturnType<typeof idleMemory>>[]>(kinds.map(([kind]) => [kind, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind] of kinds) samples.get(kind)!.push(await idleMemory(kind));
  }
  const rows = kinds.map(([kind, label]) => {
    const readings = samples.get(kind)!;
    const of = (key: keyof typeof readings[number]) => median(readings.map((reading) => reading[key]));
    return { kind, label, rss: of('rss'), heap: of('heap'), fromZeroRss: of('fromZeroRss'), fromZeroHeap: of('fromZeroHeap') };
  });
  const kib = (bytes: number): string => (bytes / 1024).toFixed(2);
  for (const row of rows) log(`memory ${row.kind}: ${kib(row.rss)} KiB RSS, ${kib(row.heap)} KiB heap; from zero, as is: ${kib(row.fromZeroRss)} KiB RSS`);
  report.memory = { connections: IDLE_CONNECTIONS, warm: WARM_CONNECTIONS, rows };
  markdown.push(
    '',
    '### Idle memory per connection',
    '',
    `Per connection: from the freshly started server to ${formatNumber(WARM_CONNECTIONS + IDLE_CONNECTIONS)} open connections, read as the process sees it (no forced GC); and the marginal cost, from ${formatNumber(WARM_CONNECTIONS)} to ${formatNumber(WARM_CONNECTIONS + IDLE_CONNECTIONS)}, each read after a full GC.`,
    '',
    '| server | RSS KiB, from zero | V8 heap KiB, from zero | RSS KiB, marginal | V8 heap KiB, marginal |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((row) => `| ${row.label} | ${kib(row.fromZeroRss)} | ${kib(row.fromZeroHeap)} | ${kib(row.rss)} | ${kib(row.heap)} |`),
  );
}

// ---- Broadcast ---------------------------------------------------------------------------

interface BroadcastSample {
  callMs: number;
  flushMs: number;
  heapBytes: number | undefined;
  bufferBytes: number;
}

if (SECTIONS.has('broadcast')) {
  const samples: Record<Implementation, BroadcastSample[]> = { ours: [], ws: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const implementation of IMPLEMENTATIONS) {
      // A young generation large enough that no scavenge runs during one broadcast, so the heap
      // growth across the call is what it allocated.
      const { server, port } = await startServer(implementation, ['--max-semi-space-size=64']);
      const idle = await openIdle(port, IDLE_CONNECTIONS);
      const result = await server.ask<{ connections: number; samples: BroadcastSample[] }>(
        `broadcast ${BROADCAST_SIZE} ${BROADCAST_REPEATS}`,
      );
      await closeIdle(idle);
      await server.stop();
      if (result.connections !== IDLE_CONNECTIONS) {
        throw new Error(`${implementation}: only ${result.connections} connections were open`);
      }
      // The first broadcasts also compile and warm up the code path.
      samples[implementation].push(...result.samples.slice(BROADCAST_WARM_UP));
    }
  }
  const rows = IMPLEMENTATIONS.map((implementation) => {
    const measured = samples[implementation];
    const heap = measured.map((sample) => sample.heapBytes).filter((bytes): bytes is number => bytes !== undefined);
    return {
      implementation,
      callMs: median(measured.map((sample) => sample.callMs)),
      flushMs: median(measured.map((sample) => sample.flushMs)),
      heapBytes: heap.length > 0 ? median(heap) : Number.NaN,
      bufferBytes: median(measured.map((sample) => sample.bufferBytes)),
    };
  });
  for (const row of rows) log(`broadcast ${row.implementation}: ${row.callMs.toFixed(2)} ms`);
  report.broadcast = { connections: IDLE_CONNECTIONS, size: BROADCAST_SIZE, rows };
  const label = (implementation: Implementation) =>
    implementation === 'ours'
      ? '@ws/server: `server.broadcast(data)` (framed once)'
      : 'ws: `for (const client of server.clients) client.send(data)`';
  markdown.push(
    '',
    `### Broadcast of one ${BROADCAST_SIZE} B binary message to ${formatNumber(IDLE_CONNECTIONS)} connections (median of ${ROUNDS} × ${BROADCAST_REPEATS - BROADCAST_WARM_UP} broadcasts)`,
    '',
    '| | call | until every socket handed its bytes to the kernel | JS heap allocated by the call | Buffer memory allocated by the call |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${label(row.implementation)} | ${row.callMs.toFixed(1)} ms | ${row.flushMs.toFixed(1)} ms | ${formatNumber(row.heapBytes / 1024)} KiB (${formatNumber(row.heapBytes / IDLE_CONNECTIONS)} B per recipient) | ${formatNumber(row.bufferBytes / 1024)} KiB |`,
    ),
  );
}

// ---- Client ------------------------------------------------------------------------------

if (SECTIONS.has('client')) {
  const scenarios = [
    { name: '16 B × 100 (window 32)', connections: 100, size: 16, window: 32 },
    { name: '1 KiB × 100 (window 16)', connections: 100, size: 1024, window: 16 },
  ];
  // The clients' own windows stay shallow: both client processes are saturated at these already.
  const rows: { scenario: string; ours: { messagesPerSecond: number; cpuShare: number; serverShare: number }; ws: { messagesPerSecond: number; cpuShare: number; serverShare: number } }[] = [];
  for (const scenario of scenarios.filter((candidate) => candidate.name.includes(SCENARIO_FILTER))) {
    const samples: Record<Implementation, { messagesPerSecond: number; cpuShare: number; serverShare: number }[]> = { ours: [], ws: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const client of IMPLEMENTATIONS) {
        // The same server for both clients: @ws/server, the fastest echo available, so that the
        // client is what limits the rate (the server's CPU share shows whether it is).
        const { server, port } = await startServer('ours');
        await server.ask('cpu');
        const load = new Child(1, 'client-load', [JSON.stringify({ port, client, ...scenario, seconds: SECONDS })]);
        const result = await load.next<{ messagesPerSecond: number; cpuShare: number; seconds: number }>();
        await load.exited;
        const cpu = await server.ask<{ user: number; system: number }>('cpu');
        await server.stop();
        samples[client].push({ ...result, serverShare: (cpu.user + cpu.system) / 1e6 / result.seconds });
      }
    }
    const summarize = (results: { messagesPerSecond: number; cpuShare: number; serverShare: number }[]) => ({
      messagesPerSecond: median(results.map((result) => result.messagesPerSecond)),
      cpuShare: median(results.map((result) => result.cpuShare)),
      serverShare: median(results.map((result) => result.serverShare)),
    });
    const row = { scenario: scenario.name, ours: summarize(samples.ours), ws: summarize(samples.ws) };
    rows.push(row);
    log(`client ${row.scenario}: ${formatNumber(row.ours.messagesPerSecond)} vs ${formatNumber(row.ws.messagesPerSecond)} msg/s`);
  }
  report.client = rows;
  markdown.push(
    '',
    '### Client load (100 connections echoing through @ws/server; the client process on core 1)',
    '',
    '| scenario | @ws/client msg/s | ws client msg/s | ratio | client CPU (ours / ws) | server CPU (ours / ws) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${formatNumber(row.ours.messagesPerSecond)} | ${formatNumber(row.ws.messagesPerSecond)} | ${(row.ours.messagesPerSecond / row.ws.messagesPerSecond).toFixed(2)}× | ${formatPercent(row.ours.cpuShare)} / ${formatPercent(row.ws.cpuShare)} | ${formatPercent(row.ours.serverShare)} / ${formatPercent(row.ws.serverShare)} |`,
    ),
  );
}

// ---- Pub/Sub through Redis ---------------------------------------------------------------

if (SECTIONS.has('pubsub')) {
  const section = await runPubsubSection({ rounds: ROUNDS, log });
  if (section !== undefined) {
    report.pubsub = section.report;
    markdown.push(...section.lines);
  }
}

// ---- WebSockets over HTTP/2 -----------------------------------------------------------------

if (SECTIONS.has('http2')) {
  const { rows, lines } = await runHttp2Section({
    connections: Number(process.env.BENCH_HTTP2_CONNECTIONS ?? 1_000),
    rounds: ROUNDS,
    seconds: SECONDS,
    log,
  });
  report.http2 = rows;
  markdown.push(...lines);
}

console.log(markdown.join('\n'));
mkdirSync(`${benchDirectory}/bench-results`, { recursive: true });
writeFileSync(`${benchDirectory}/bench-results/echo.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${benchDirectory}/bench-results/echo.md`, `${markdown.join('\n')}\n`);
