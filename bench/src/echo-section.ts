/**
 * The echo section of `pnpm bench`: throughput and latency of @ws/server, ws and the Node
 * ceiling (minimal-echo.ts) under the C load generator (or the Node one where no C compiler is
 * present), each server in a fresh process on core 0 per round, the load on core 1.
 */
import { buildCLoadGenerator, type LoadGenerator, runCLoadGenerator } from './c-load-generator.js';
import { Child } from './child.js';
import { formatNumber, formatPercent, median } from './measurement.js';

export interface EchoSectionOptions {
  readonly rounds: number;
  readonly seconds: number;
  /** Only the scenarios whose name contains it. */
  readonly scenarioFilter: string;
  /** Where the C load generator is built. */
  readonly outDirectory: string;
  readonly startServer: (implementation: string) => Promise<{ server: Child; port: number }>;
  readonly log: (line: string) => void;
}

/**
 * glibc's allocator changes how it serves large buffers as a process runs (its mmap threshold
 * moves, freed memory is trimmed and faulted back in), which swings the rows above 1 KiB by up
 * to 2× between rounds; `GLIBC_TUNABLES` fixed for the run takes that out. The heading says which.
 */
function allocatorNote(): string {
  const tunables = process.env.GLIBC_TUNABLES;
  return tunables === undefined || tunables === '' ? 'default allocator settings' : `GLIBC_TUNABLES=${tunables}`;
}

/** The slowest to the fastest round, in thousands of msg/s. */
const spread = (result: { slowest?: number; fastest?: number }): string =>
  `${((result.slowest ?? 0) / 1000).toFixed(1)}–${((result.fastest ?? 0) / 1000).toFixed(1)}k`;

interface LoadResult {
  messagesPerSecond: number;
  /** The load generator's CPU use (1 = one core): under 1, it is not the bottleneck. */
  cpuShare: number;
  /** The server's CPU use over the same time. */
  serverShare: number;
  /** Server CPU time per echoed message, µs: the efficiency, less sensitive to noise than msg/s. */
  serverMicrosecondsPerMessage: number;
  /** The slowest and fastest round, msg/s (a summary only): how far the rounds spread. */
  slowest?: number;
  fastest?: number;
  p50?: number;
  p99?: number;
}

/**
 * The echo section's servers: both libraries, and the Node ceiling (minimal-echo.ts: framing
 * only, native unmasking, batched writes), which says how much of Node's reach each one uses.
 */
const ECHO_IMPLEMENTATIONS = ['ours', 'ws', 'minimal'] as const;
type EchoImplementation = (typeof ECHO_IMPLEMENTATIONS)[number];

async function echoRound(options: EchoSectionOptions, implementation: EchoImplementation, scenario: EchoScenario, loadGenerator: LoadGenerator): Promise<LoadResult> {
  const { server, port } = await options.startServer(implementation);
  await server.ask('cpu');
  const settings = { port, connections: scenario.connections, size: scenario.size, window: scenario.window, seconds: options.seconds };
  let result: LoadResult & { messages: number; seconds: number };
  if ('path' in loadGenerator) {
    result = await runCLoadGenerator(loadGenerator.path, settings);
  } else {
    const generator = new Child(1, 'load-generator', [JSON.stringify(settings)]);
    result = await generator.next();
    await generator.exited;
  }
  const cpu = await server.ask<{ user: number; system: number }>('cpu');
  await server.stop();
  const serverMicroseconds = cpu.user + cpu.system;
  return {
    ...result,
    serverShare: serverMicroseconds / 1e6 / result.seconds,
    serverMicrosecondsPerMessage: serverMicroseconds / result.messages,
  };
}

interface EchoScenario {
  readonly name: string;
  readonly connections: number;
  readonly size: number;
  readonly window: number;
}

/**
 * Size, label and window (messages in flight per connection) for 1 and for 100 connections:
 * the load shape of an outside measurement of this project (a C epoll load generator, the same
 * windows), so that the two can be compared. Deeper windows flatter @ws/server: it handles every
 * message a read brings in one pass, so its cost per message falls as more arrive per read,
 * while ws's stays the same (with 64 × 16 B over 100 connections the ratio read 15× where this
 * shape gives 5×).
 */
const SIZES = [
  ['16 B', 16, 64, 16],
  ['1 KiB', 1024, 64, 16],
  ['64 KiB', 64 * 1024, 8, 2],
  ['1 MiB', 1024 * 1024, 4, 1],
] as const;

export async function runEchoSection(options: EchoSectionOptions): Promise<{ rows: unknown[]; lines: string[] }> {
  const { log } = options;
  const markdown: string[] = [];
  // The C load generator when it builds here, else the Node one.
  const loadGenerator = buildCLoadGenerator(options.outDirectory);
  const scenarios: EchoScenario[] = [];
  for (const connections of [1, 100]) {
    for (const [label, size, windowOfOne, windowOfHundred] of SIZES) {
      const window = connections === 1 ? windowOfOne : windowOfHundred;
      scenarios.push({ name: `echo ${label} × ${connections} (window ${window})`, connections, size, window });
    }
  }
  scenarios.push({ name: 'latency 16 B × 1 (window 1)', connections: 1, size: 16, window: 1 });

  const rows: { scenario: string; ours: LoadResult; ws: LoadResult; minimal: LoadResult }[] = [];
  for (const scenario of scenarios.filter((candidate) => candidate.name.includes(options.scenarioFilter))) {
    const samples: Record<EchoImplementation, LoadResult[]> = { ours: [], ws: [], minimal: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const implementation of ECHO_IMPLEMENTATIONS) samples[implementation].push(await echoRound(options, implementation, scenario, loadGenerator));
    }
    const summarize = (results: LoadResult[]): LoadResult => ({
      messagesPerSecond: median(results.map((result) => result.messagesPerSecond)),
      slowest: Math.min(...results.map((result) => result.messagesPerSecond)),
      fastest: Math.max(...results.map((result) => result.messagesPerSecond)),
      cpuShare: median(results.map((result) => result.cpuShare)),
      serverShare: median(results.map((result) => result.serverShare)),
      serverMicrosecondsPerMessage: median(results.map((result) => result.serverMicrosecondsPerMessage)),
      ...(results[0]!.p50 === undefined
        ? {}
        : { p50: median(results.map((result) => result.p50!)), p99: median(results.map((result) => result.p99!)) }),
    });
    const row = { scenario: scenario.name, ours: summarize(samples.ours), ws: summarize(samples.ws), minimal: summarize(samples.minimal) };
    rows.push(row);
    log(`${row.scenario}: ${formatNumber(row.ours.messagesPerSecond)} vs ${formatNumber(row.ws.messagesPerSecond)} msg/s`);
  }
  const latency = rows.filter((row) => row.ours.p50 !== undefined);
  markdown.push(
    '',
    `### Echo (server: @ws/server vs ws; load: raw TCP frames from core 1, ${'path' in loadGenerator ? 'the C load generator (load-generator.c)' : `the Node load generator (load-generator.ts: ${loadGenerator.reason})`}; ${allocatorNote()})`,
    '',
    '| scenario | @ws/server msg/s | ws msg/s | ratio | Node ceiling msg/s (ours / it) | server CPU µs/msg (ours / ws / ceiling) | rounds, msg/s (ours; ws) | server CPU (ours / ws) | load generator CPU (ours / ws) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${formatNumber(row.ours.messagesPerSecond)} | ${formatNumber(row.ws.messagesPerSecond)} | ${(row.ours.messagesPerSecond / row.ws.messagesPerSecond).toFixed(2)}× | ${formatNumber(row.minimal.messagesPerSecond)} (${formatPercent(row.ours.messagesPerSecond / row.minimal.messagesPerSecond)}) | ${row.ours.serverMicrosecondsPerMessage.toFixed(2)} / ${row.ws.serverMicrosecondsPerMessage.toFixed(2)} / ${row.minimal.serverMicrosecondsPerMessage.toFixed(2)} | ${spread(row.ours)}; ${spread(row.ws)} | ${formatPercent(row.ours.serverShare)} / ${formatPercent(row.ws.serverShare)} | ${formatPercent(row.ours.cpuShare)} / ${formatPercent(row.ws.cpuShare)} |`,
    ),
    '',
    ...latency.map(
      (row) =>
        `Latency, ${row.scenario}: p50 ${row.ours.p50!.toFixed(0)} µs (ws ${row.ws.p50!.toFixed(0)} µs), p99 ${row.ours.p99!.toFixed(0)} µs (ws ${row.ws.p99!.toFixed(0)} µs).`,
    ),
  );
  return { rows, lines: markdown };
}
