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
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { startRedis } from '../../packages/redis/test/redis-process.js';
import { bundle } from './bundle.js';
import { Child } from './child.js';
import { runHttp2Section } from './http2-section.js';
import { hasTaskset, median } from './measurement.js';

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
const PUBSUB_CONNECTIONS = Number(process.env.BENCH_PUBSUB_CONNECTIONS ?? 10_000);
const PUBSUB_SIZE = 1024;
/** Paced publishes, for the delivery latency: far enough apart that one is delivered before the next. */
const PUBSUB_PACED = { count: 20, interval: 50 };
/** Back-to-back publishes (a turn apart), for the rate. */
const PUBSUB_BURST = 50;
const MEMORY_TOPICS = 10;

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

const format = (value: number): string => Math.round(value).toLocaleString('en-US');
const percent = (value: number): string => `${(value * 100).toFixed(0)}%`;
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

interface LoadResult {
  messagesPerSecond: number;
  /** The load generator's CPU use (1 = one core): under 1, it is not the bottleneck. */
  cpuShare: number;
  /** The server's CPU use over the same time. */
  serverShare: number;
  /** Server CPU time per echoed message, µs: the efficiency, less sensitive to noise than msg/s. */
  serverMicrosecondsPerMessage: number;
  p50?: number;
  p99?: number;
}

async function echoRound(implementation: Implementation, scenario: EchoScenario): Promise<LoadResult> {
  const { server, port } = await startServer(implementation);
  await server.ask('cpu');
  const settings = { port, connections: scenario.connections, size: scenario.size, window: scenario.window, seconds: SECONDS };
  const generator = new Child(1, 'load-generator', [JSON.stringify(settings)]);
  const result = await generator.next<LoadResult & { messages: number; seconds: number }>();
  await generator.exited;
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
 * Size, label and window (messages in flight per connection). The windows of the small sizes
 * are deep enough that the @ws/server process is saturated (its CPU share near 100 %): with a
 * shallow window the run measures the round trip of the pipeline, not the server.
 */
const SIZES = [
  ['16 B', 16, 64],
  ['1 KiB', 1024, 32],
  ['64 KiB', 64 * 1024, 2],
  ['1 MiB', 1024 * 1024, 1],
] as const;

if (SECTIONS.has('echo')) {
  const scenarios: EchoScenario[] = [];
  for (const connections of [1, 100]) {
    for (const [label, size, window] of SIZES) {
      scenarios.push({ name: `echo ${label} × ${connections} (window ${window})`, connections, size, window });
    }
  }
  scenarios.push({ name: 'latency 16 B × 1 (window 1)', connections: 1, size: 16, window: 1 });

  const rows: { scenario: string; ours: LoadResult; ws: LoadResult }[] = [];
  for (const scenario of scenarios.filter((candidate) => candidate.name.includes(SCENARIO_FILTER))) {
    const samples: Record<Implementation, LoadResult[]> = { ours: [], ws: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const implementation of IMPLEMENTATIONS) samples[implementation].push(await echoRound(implementation, scenario));
    }
    const summarize = (results: LoadResult[]): LoadResult => ({
      messagesPerSecond: median(results.map((result) => result.messagesPerSecond)),
      cpuShare: median(results.map((result) => result.cpuShare)),
      serverShare: median(results.map((result) => result.serverShare)),
      serverMicrosecondsPerMessage: median(results.map((result) => result.serverMicrosecondsPerMessage)),
      ...(results[0]!.p50 === undefined
        ? {}
        : { p50: median(results.map((result) => result.p50!)), p99: median(results.map((result) => result.p99!)) }),
    });
    const row = { scenario: scenario.name, ours: summarize(samples.ours), ws: summarize(samples.ws) };
    rows.push(row);
    log(`${row.scenario}: ${format(row.ours.messagesPerSecond)} vs ${format(row.ws.messagesPerSecond)} msg/s`);
  }
  report.echo = rows;
  const latency = rows.filter((row) => row.ours.p50 !== undefined);
  markdown.push(
    '',
    '### Echo (server: @ws/server vs ws; load: raw TCP frames from core 1)',
    '',
    '| scenario | @ws/server msg/s | ws msg/s | ratio | server CPU µs/msg (ours / ws) | server CPU (ours / ws) | load generator CPU (ours / ws) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${format(row.ours.messagesPerSecond)} | ${format(row.ws.messagesPerSecond)} | ${(row.ours.messagesPerSecond / row.ws.messagesPerSecond).toFixed(2)}× | ${row.ours.serverMicrosecondsPerMessage.toFixed(2)} / ${row.ws.serverMicrosecondsPerMessage.toFixed(2)} | ${percent(row.ours.serverShare)} / ${percent(row.ws.serverShare)} | ${percent(row.ours.cpuShare)} / ${percent(row.ws.cpuShare)} |`,
    ),
    '',
    ...latency.map(
      (row) =>
        `Latency, ${row.scenario}: p50 ${row.ours.p50!.toFixed(0)} µs (ws ${row.ws.p50!.toFixed(0)} µs), p99 ${row.ours.p99!.toFixed(0)} µs (ws ${row.ws.p99!.toFixed(0)} µs).`,
    ),
  );
}

// ---- Idle memory -------------------------------------------------------------------------

interface MemoryReading {
  rss: number;
  heapUsed: number;
  connections: number;
}

/** Bytes per connection between WARM_CONNECTIONS and WARM_CONNECTIONS + IDLE_CONNECTIONS open connections. */
async function idleMemory(implementation: string): Promise<{ rss: number; heap: number }> {
  const { server, port } = await startServer(implementation);
  const warm = await openIdle(port, WARM_CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await server.ask<MemoryReading>('memory');
  const idle = await openIdle(port, IDLE_CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await server.ask<MemoryReading>('memory');
  await Promise.all([closeIdle(warm), closeIdle(idle)]);
  await server.stop();
  if (after.connections !== WARM_CONNECTIONS + IDLE_CONNECTIONS) {
    throw new Error(`${implementation}: only ${after.connections} connections were open`);
  }
  return { rss: (after.rss - before.rss) / IDLE_CONNECTIONS, heap: (after.heapUsed - before.heapUsed) / IDLE_CONNECTIONS };
}

if (SECTIONS.has('memory')) {
  const kinds = [
    ['ours', '@ws/server (heartbeat on, its default)'],
    ['ws', 'ws'],
    ['net', 'floor: a bare Node socket after the HTTP upgrade, no WebSocket'],
  ] as const;
  const samples = new Map<string, { rss: number; heap: number }[]>(kinds.map(([kind]) => [kind, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind] of kinds) samples.get(kind)!.push(await idleMemory(kind));
  }
  const rows = kinds.map(([kind, label]) => {
    const readings = samples.get(kind)!;
    return { kind, label, rss: median(readings.map((reading) => reading.rss)), heap: median(readings.map((reading) => reading.heap)) };
  });
  for (const row of rows) log(`memory ${row.kind}: ${(row.rss / 1024).toFixed(2)} KiB RSS, ${(row.heap / 1024).toFixed(2)} KiB heap`);
  report.memory = { connections: IDLE_CONNECTIONS, warm: WARM_CONNECTIONS, rows };
  markdown.push(
    '',
    `### Idle memory per connection (growth from ${format(WARM_CONNECTIONS)} to ${format(WARM_CONNECTIONS + IDLE_CONNECTIONS)} open connections, after a full GC)`,
    '',
    '| server | RSS KiB/connection | V8 heap KiB/connection |',
    '|---|---:|---:|',
    ...rows.map((row) => `| ${row.label} | ${(row.rss / 1024).toFixed(2)} | ${(row.heap / 1024).toFixed(2)} |`),
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
    `### Broadcast of one ${BROADCAST_SIZE} B binary message to ${format(IDLE_CONNECTIONS)} connections (median of ${ROUNDS} × ${BROADCAST_REPEATS - BROADCAST_WARM_UP} broadcasts)`,
    '',
    '| | call | until every socket handed its bytes to the kernel | JS heap allocated by the call | Buffer memory allocated by the call |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${label(row.implementation)} | ${row.callMs.toFixed(1)} ms | ${row.flushMs.toFixed(1)} ms | ${format(row.heapBytes / 1024)} KiB (${format(row.heapBytes / IDLE_CONNECTIONS)} B per recipient) | ${format(row.bufferBytes / 1024)} KiB |`,
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
    log(`client ${row.scenario}: ${format(row.ours.messagesPerSecond)} vs ${format(row.ws.messagesPerSecond)} msg/s`);
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
        `| ${row.scenario} | ${format(row.ours.messagesPerSecond)} | ${format(row.ws.messagesPerSecond)} | ${(row.ours.messagesPerSecond / row.ws.messagesPerSecond).toFixed(2)}× | ${percent(row.ours.cpuShare)} / ${percent(row.ws.cpuShare)} | ${percent(row.ours.serverShare)} / ${percent(row.ws.serverShare)} |`,
    ),
  );
}

// ---- Pub/Sub through Redis ---------------------------------------------------------------

interface Delivery {
  received: number;
  last: number;
  p50: number;
  p99: number;
}

/** Asks the receiver until it has `expected` messages, or nothing more came for 2 s (at-most-once may lose some). */
async function delivered(receiver: Child, expected: number): Promise<Delivery> {
  let report = await receiver.ask<Delivery>('report');
  let stalled = 0;
  while (report.received < expected && stalled < 20) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await receiver.ask<Delivery>('report');
    stalled = next.received === report.received ? stalled + 1 : 0;
    report = next;
  }
  return report;
}

async function pubsubServers(implementation: Implementation, redisUrl: string, count: number) {
  const servers: Child[] = [];
  for (let index = 0; index < count; index++) servers.push(new Child(0, 'pubsub-server', [implementation, redisUrl], ['--max-semi-space-size=64']));
  const ports = await Promise.all(servers.map(async (server) => (await server.next<{ port: number }>()).port));
  return { servers, ports };
}

async function subscribers(ports: number[], topics: string[]): Promise<Child> {
  const receiver = new Child(1, 'pubsub-receiver', [JSON.stringify({ ports, connections: PUBSUB_CONNECTIONS, topics })]);
  await receiver.next();
  return receiver;
}

async function stopAll(receiver: Child, servers: Child[]): Promise<void> {
  receiver.process.stdin!.write('close\n');
  await receiver.exited;
  await Promise.all(servers.map((server) => server.stop()));
}

const REDIS_SERVER = process.env.REDIS_SERVER_PATH || '/usr/bin/redis-server';
if (SECTIONS.has('pubsub') && !existsSync(REDIS_SERVER)) {
  log(`Skipping the pubsub section: no redis-server at ${REDIS_SERVER} (apt-get install redis-server, or set REDIS_SERVER_PATH).`);
} else if (SECTIONS.has('pubsub')) {
  const cleanups: (() => unknown)[] = [];
  const redis = await startRedis(REDIS_SERVER, cleanups);
  const stats = createClient({ url: redis.url });
  await stats.connect();
  const publishCalls = async (): Promise<number> => Number(/cmdstat_publish:calls=(\d+)/.exec(String(await stats.info('commandstats')))?.[1] ?? 0);
  interface PubsubSample {
    messagesPerSecond: number;
    p50: number;
    p99: number;
    lost: number;
    commandsPerPublish: number;
    publishMs: number;
    broadcastMs: number;
    rssPerSubscription: number;
    heapPerSubscription: number;
  }
  const samples: Record<Implementation, PubsubSample[]> = { ours: [], ws: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const implementation of IMPLEMENTATIONS) {
      // Two processes through Redis, the subscribers spread over both.
      const shared = await pubsubServers(implementation, redis.url, 2);
      const receiver = await subscribers(shared.ports, ['news']);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const callsBefore = await publishCalls();
      await shared.servers[0]!.ask(`publish news ${PUBSUB_SIZE} ${PUBSUB_PACED.count} ${PUBSUB_PACED.interval}`);
      const paced = await delivered(receiver, PUBSUB_PACED.count * PUBSUB_CONNECTIONS);
      receiver.process.stdin!.write('reset\n');
      const { first } = await shared.servers[0]!.ask<{ first: number }>(`publish news ${PUBSUB_SIZE} ${PUBSUB_BURST} 0`);
      const burst = await delivered(receiver, PUBSUB_BURST * PUBSUB_CONNECTIONS);
      const commands = (await publishCalls()) - callsBefore;
      await stopAll(receiver, shared.servers);

      // One process, no Redis: a publish to the topic's 10,000 subscribers beside a broadcast to the same connections.
      const local = await pubsubServers(implementation, '-', 1);
      const localReceiver = await subscribers(local.ports, ['news']);
      const { publishMs, broadcastMs } = await local.servers[0]!.ask<{ publishMs: number; broadcastMs: number }>(`local news ${PUBSUB_SIZE} 10`);
      await stopAll(localReceiver, local.servers);

      // Memory: the same connections without topics, then each subscribed to 10 (one process each, with Redis).
      const memory: { rss: number; heapUsed: number; subscriptions: number }[] = [];
      for (const topics of [[], Array.from({ length: MEMORY_TOPICS }, (_, index) => `topic-${index}`)]) {
        const alone = await pubsubServers(implementation, redis.url, 1);
        const idle = await subscribers(alone.ports, topics);
        await new Promise((resolve) => setTimeout(resolve, 500));
        memory.push(await alone.servers[0]!.ask('memory'));
        await stopAll(idle, alone.servers);
      }
      const [bare, subscribed] = memory as [(typeof memory)[0], (typeof memory)[0]];

      samples[implementation].push({
        messagesPerSecond: burst.received / ((burst.last - first) / 1000),
        p50: paced.p50,
        p99: paced.p99,
        lost: PUBSUB_PACED.count * PUBSUB_CONNECTIONS - paced.received + PUBSUB_BURST * PUBSUB_CONNECTIONS - burst.received,
        commandsPerPublish: commands / (PUBSUB_PACED.count + PUBSUB_BURST),
        publishMs,
        broadcastMs,
        rssPerSubscription: (subscribed.rss - bare.rss) / subscribed.subscriptions,
        heapPerSubscription: (subscribed.heapUsed - bare.heapUsed) / subscribed.subscriptions,
      });
    }
  }
  await stats.destroy();
  for (const cleanup of cleanups.reverse()) await cleanup();
  const rows = IMPLEMENTATIONS.map((implementation) => {
    const of = (key: keyof PubsubSample) => median(samples[implementation].map((sample) => sample[key]));
    return {
      implementation,
      messagesPerSecond: of('messagesPerSecond'),
      p50: of('p50'),
      p99: of('p99'),
      lost: of('lost'),
      commandsPerPublish: of('commandsPerPublish'),
      publishMs: of('publishMs'),
      broadcastMs: of('broadcastMs'),
      rssPerSubscription: of('rssPerSubscription'),
      heapPerSubscription: of('heapPerSubscription'),
    };
  });
  for (const row of rows) log(`pubsub ${row.implementation}: ${format(row.messagesPerSecond)} deliveries/s, p50 ${row.p50.toFixed(1)} ms`);
  report.pubsub = { connections: PUBSUB_CONNECTIONS, size: PUBSUB_SIZE, paced: PUBSUB_PACED, burst: PUBSUB_BURST, rows };
  const label = (implementation: Implementation) =>
    implementation === 'ours'
      ? '@ws/server + @ws/redis: `server.publish(topic, data)`'
      : 'ws: a Redis subscription per topic per process, a loop of `send`';
  markdown.push(
    '',
    `### Pub/Sub: ${PUBSUB_SIZE} B to ${format(PUBSUB_CONNECTIONS)} subscribers of one topic over 2 server processes (core 0) through one Redis; subscribers in one process (core 1)`,
    '',
    `Rate: ${PUBSUB_BURST} publishes back to back from one process, deliveries per second until the last arrived. Latency: ${PUBSUB_PACED.count} publishes ${PUBSUB_PACED.interval} ms apart, send to receipt. Local: one process without Redis, the call only. Memory: ${format(PUBSUB_CONNECTIONS)} connections × ${MEMORY_TOPICS} topics beside the same connections without topics, after a full GC.`,
    '',
    '| | deliveries/s | latency p50 / p99 | lost | Redis PUBLISH per publish | local publish call | broadcast call | RSS / heap per subscription |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${label(row.implementation)} | ${format(row.messagesPerSecond)} | ${row.p50.toFixed(1)} / ${row.p99.toFixed(1)} ms | ${format(row.lost)} | ${row.commandsPerPublish.toFixed(2)} | ${row.publishMs.toFixed(2)} ms | ${row.broadcastMs.toFixed(2)} ms | ${format(row.rssPerSubscription)} / ${format(row.heapPerSubscription)} B |`,
    ),
  );
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
