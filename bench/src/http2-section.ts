/**
 * The http2 section of `run.ts`: @ws/server's WebSockets over one HTTP/2 session (h2c, RFC 8441)
 * beside the same number over HTTP/1.1 TCP connections (plain TCP, no TLS on either side): idle
 * memory per WebSocket and echo throughput at 16 B and 64 KiB. The server runs on core 0; the load
 * on core 1 is Node's http2 client writing raw pre-masked frames on the streams
 * (`http2-load-generator.ts`), or raw TCP sockets (`load-generator.ts`). See README.md.
 */
import { Child } from './child.js';
import { formatNumber, formatPercent, median } from './measurement.js';

const TRANSPORTS = ['tcp', 'h2c'] as const;
type Transport = (typeof TRANSPORTS)[number];

const SERVER: Record<Transport, string> = { tcp: 'ours', h2c: 'h2c' };
const LOAD: Record<Transport, string> = { tcp: 'load-generator', h2c: 'http2-load-generator' };
const LABEL: Record<Transport, string> = { tcp: 'HTTP/1.1, a TCP connection each', h2c: 'HTTP/2 (h2c), one session' };

/** Size, label and window (messages in flight per WebSocket). */
const SIZES = [
  ['16 B', 16, 16],
  ['64 KiB', 64 * 1024, 1],
] as const;

export interface Http2SectionOptions {
  /** WebSockets per measurement: on one HTTP/2 session, or TCP connections. */
  readonly connections: number;
  readonly rounds: number;
  readonly seconds: number;
  readonly log: (line: string) => void;
}

interface Echo {
  messagesPerSecond: number;
  loadShare: number;
  serverShare: number;
  serverMicrosecondsPerMessage: number;
}

interface Memory {
  rss: number;
  heap: number;
}

async function startServer(transport: Transport): Promise<{ server: Child; port: number }> {
  const server = new Child(0, 'echo-server', [SERVER[transport]]);
  const { port } = await server.next<{ port: number }>();
  return { server, port };
}

async function openIdle(transport: Transport, port: number, connections: number): Promise<Child> {
  const load = new Child(1, LOAD[transport], [JSON.stringify({ port, connections, idle: true })]);
  await load.next();
  return load;
}

async function closeIdle(load: Child): Promise<void> {
  load.process.stdin!.write('close\n');
  await load.exited;
}

/**
 * Growth per WebSocket between `connections` open (warm: code compiled, pools made; over HTTP/2
 * a session of its own) and twice as many (the second half on a new session), after a full GC.
 */
async function memoryRound(transport: Transport, connections: number): Promise<Memory> {
  const { server, port } = await startServer(transport);
  const warm = await openIdle(transport, port, connections);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await server.ask<{ rss: number; heapUsed: number }>('memory');
  const measured = await openIdle(transport, port, connections);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await server.ask<{ rss: number; heapUsed: number; connections: number }>('memory');
  await Promise.all([closeIdle(warm), closeIdle(measured)]);
  await server.stop();
  if (after.connections !== 2 * connections) throw new Error(`${transport}: only ${after.connections} WebSockets were open`);
  return { rss: (after.rss - before.rss) / connections, heap: (after.heapUsed - before.heapUsed) / connections };
}

async function echoRound(transport: Transport, settings: { connections: number; size: number; window: number; seconds: number }): Promise<Echo> {
  const { server, port } = await startServer(transport);
  await server.ask('cpu');
  const load = new Child(1, LOAD[transport], [JSON.stringify({ port, ...settings })]);
  const result = await load.next<{ messages: number; seconds: number; messagesPerSecond: number; cpuShare: number }>();
  await load.exited;
  const cpu = await server.ask<{ user: number; system: number }>('cpu');
  await server.stop();
  const serverMicroseconds = cpu.user + cpu.system;
  return {
    messagesPerSecond: result.messagesPerSecond,
    loadShare: result.cpuShare,
    serverShare: serverMicroseconds / 1e6 / result.seconds,
    serverMicrosecondsPerMessage: serverMicroseconds / result.messages,
  };
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(2);

/** Runs the section, transports alternating round by round; returns the JSON rows and the Markdown lines. */
export async function runHttp2Section(options: Http2SectionOptions): Promise<{ rows: unknown; lines: string[] }> {
  const { connections, rounds, seconds, log } = options;
  const memory: Record<Transport, Memory[]> = { tcp: [], h2c: [] };
  for (let round = 0; round < rounds; round++) {
    for (const transport of TRANSPORTS) memory[transport].push(await memoryRound(transport, connections));
  }
  const memoryRows = TRANSPORTS.map((transport) => ({
    transport,
    rss: median(memory[transport].map((sample) => sample.rss)),
    heap: median(memory[transport].map((sample) => sample.heap)),
  }));
  for (const row of memoryRows) log(`http2 memory ${row.transport}: ${kib(row.rss)} KiB RSS, ${kib(row.heap)} KiB heap`);

  const echoRows: { scenario: string; tcp: Echo; h2c: Echo }[] = [];
  for (const [label, size, window] of SIZES) {
    const samples: Record<Transport, Echo[]> = { tcp: [], h2c: [] };
    for (let round = 0; round < rounds; round++) {
      for (const transport of TRANSPORTS) samples[transport].push(await echoRound(transport, { connections, size, window, seconds }));
    }
    const summarize = (results: Echo[]): Echo => ({
      messagesPerSecond: median(results.map((result) => result.messagesPerSecond)),
      loadShare: median(results.map((result) => result.loadShare)),
      serverShare: median(results.map((result) => result.serverShare)),
      serverMicrosecondsPerMessage: median(results.map((result) => result.serverMicrosecondsPerMessage)),
    });
    const row = { scenario: `echo ${label} × ${formatNumber(connections)} (window ${window})`, tcp: summarize(samples.tcp), h2c: summarize(samples.h2c) };
    echoRows.push(row);
    log(`http2 ${row.scenario}: ${formatNumber(row.h2c.messagesPerSecond)} (h2c) vs ${formatNumber(row.tcp.messagesPerSecond)} (TCP) msg/s`);
  }

  const lines = [
    '',
    `### WebSockets over HTTP/2: ${formatNumber(connections)} on one h2c session vs ${formatNumber(connections)} HTTP/1.1 TCP connections (@ws/server on core 0; load on core 1)`,
    '',
    `Memory: growth from ${formatNumber(connections)} to ${formatNumber(2 * connections)} open WebSockets (the second ${formatNumber(connections)} on a session of their own over HTTP/2), after a full GC.`,
    '',
    '| transport | RSS KiB/WebSocket | V8 heap KiB/WebSocket |',
    '|---|---:|---:|',
    ...memoryRows.map((row) => `| ${LABEL[row.transport]} | ${kib(row.rss)} | ${kib(row.heap)} |`),
    '',
    '| scenario | h2c msg/s | TCP msg/s | ratio (h2c / TCP) | server CPU µs/msg (h2c / TCP) | server CPU (h2c / TCP) | load CPU (h2c / TCP) |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...echoRows.map(
      (row) =>
        `| ${row.scenario} | ${formatNumber(row.h2c.messagesPerSecond)} | ${formatNumber(row.tcp.messagesPerSecond)} | ${(row.h2c.messagesPerSecond / row.tcp.messagesPerSecond).toFixed(2)}× | ${row.h2c.serverMicrosecondsPerMessage.toFixed(2)} / ${row.tcp.serverMicrosecondsPerMessage.toFixed(2)} | ${formatPercent(row.h2c.serverShare)} / ${formatPercent(row.tcp.serverShare)} | ${formatPercent(row.h2c.loadShare)} / ${formatPercent(row.tcp.loadShare)} |`,
    ),
  ];
  return { rows: { connections, memory: memoryRows, echo: echoRows }, lines };
}
