/**
 * The hostile-load benchmark: attacks run against `@ws/server` and `ws` side by side, each
 * server a plain echo server in its own process. See README.md ("Hostile load") for the method
 * and its caveats. Prints the method and a Markdown table, and writes bench-results/hostile.md
 * and bench-results/hostile.json.
 *
 *   pnpm bench:hostile                       (root) or `pnpm --filter bench bench:hostile`
 *
 * Options (environment):
 *   HOSTILE_ATTACKS  comma-separated subset of pipelined,ping-flood,fragment-flood,slowloris,deflate-bomb
 *   HOSTILE_SERVERS  comma-separated subset of the server labels' first words: ours,ws (default both)
 *   HOSTILE_QUICK=1  a tenth of the connections and shorter limits, for trying the harness out
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Opcode } from '@ws/core';
import type { AttackReport, AttackSettings } from './hostile-attacker.js';
import type { ProbeReport } from './hostile-probe.js';
import type { ServerReport, ServerSettings } from './hostile-server.js';
import { bundle } from './bundle.js';
import { hasTaskset } from './measurement.js';
import { type Attack, type Row, detailsLine, tableRow } from './hostile-report.js';
import { maskedFrame, openRawPeer, ServerFrameReader } from './raw-peer.js';

const ATTACKS: readonly Attack[] = ['pipelined', 'ping-flood', 'fragment-flood', 'slowloris', 'deflate-bomb'];
const selectedAttacks = new Set((process.env.HOSTILE_ATTACKS ?? ATTACKS.join(',')).split(',').map((name) => name.trim()));
for (const name of selectedAttacks) {
  if (!(ATTACKS as readonly string[]).includes(name)) throw new RangeError(`HOSTILE_ATTACKS: unknown attack "${name}" (known: ${ATTACKS.join(', ')})`);
}
const selectedServers = new Set((process.env.HOSTILE_SERVERS ?? 'ours,ws').split(','));
const QUICK = process.env.HOSTILE_QUICK === '1';
/** Connection counts are divided by this in quick mode. */
const scale = (count: number): number => (QUICK ? Math.max(1, Math.round(count / 10)) : count);

const MiB = 1024 * 1024;
/** Both servers' slowloris deadline: @ws/server's `handshakeTimeout`, Node's `headersTimeout` for ws. */
const HANDSHAKE_TIMEOUT = 5_000;

const benchDirectory = fileURLToPath(new URL('..', import.meta.url));
const outDirectory = fileURLToPath(new URL('../dist/hostile', import.meta.url));

// ---- Scenarios -----------------------------------------------------------------------------

interface ServerUnderTest {
  readonly label: string;
  readonly implementation: 'ours' | 'ws';
  readonly settings: ServerSettings;
}

interface Scenario {
  readonly attack: Attack;
  readonly name: string;
  readonly servers: readonly ServerUnderTest[];
  readonly attackSettings: (port: number) => AttackSettings;
  /** The attack's own time limit; the attacker process is killed 20 s past it at the latest. */
  readonly limitMs: number;
}

const OURS: ServerUnderTest = { label: '@ws/server', implementation: 'ours', settings: {} };
const WS: ServerUnderTest = { label: 'ws', implementation: 'ws', settings: {} };
const DEFAULT_SERVERS = [OURS, WS];

const SCENARIOS: readonly Scenario[] = [
  {
    attack: 'pipelined',
    name: 'pipelined upload, 4 × 8 MiB',
    servers: DEFAULT_SERVERS,
    limitMs: 20_000,
    attackSettings: (port) => ({ attack: 'pipelined', port, count: 4, size: 8 * MiB, limitMs: 20_000 }),
  },
  {
    attack: 'pipelined',
    name: 'pipelined upload, 40 × 1 MiB',
    servers: DEFAULT_SERVERS,
    limitMs: 20_000,
    attackSettings: (port) => ({ attack: 'pipelined', port, count: 40, size: MiB, limitMs: 20_000 }),
  },
  {
    attack: 'ping-flood',
    name: 'ping flood, peer never reads (125 B pings, ≤ 10 s, ≤ 1 GiB)',
    servers: DEFAULT_SERVERS,
    limitMs: QUICK ? 3_000 : 10_000,
    attackSettings: (port) => ({ attack: 'ping-flood', port, maxBytes: 1024 * MiB, limitMs: QUICK ? 3_000 : 10_000 }),
  },
  ...[90_000, 100_000].map(
    (fragments): Scenario => ({
      attack: 'fragment-flood',
      name: `fragment flood, ${scale(100)} connections × ${fragments.toLocaleString('en-US')} one-byte fragments`,
      servers: DEFAULT_SERVERS,
      limitMs: 30_000,
      attackSettings: (port) => ({ attack: 'fragment-flood', port, connections: scale(100), fragments, limitMs: 30_000 }),
    }),
  ),
  {
    attack: 'slowloris',
    name: `slowloris, ${scale(4000).toLocaleString('en-US')} half request heads (held 10 s after the last connect)`,
    servers: [
      { label: `@ws/server, handshakeTimeout ${HANDSHAKE_TIMEOUT / 1000} s`, implementation: 'ours', settings: { handshakeTimeout: HANDSHAKE_TIMEOUT } },
      { label: 'ws (no handshake timeout; Node http defaults)', implementation: 'ws', settings: {} },
      {
        label: `ws on a Node http.Server with headersTimeout ${HANDSHAKE_TIMEOUT / 1000} s`,
        implementation: 'ws',
        settings: { headersTimeout: HANDSHAKE_TIMEOUT },
      },
    ],
    limitMs: 10_000,
    attackSettings: (port) => ({ attack: 'slowloris', port, connections: scale(4000), limitMs: 10_000 }),
  },
  {
    attack: 'deflate-bomb',
    name: `permessage-deflate, ${scale(100)} connections × one message inflating to 15 MiB`,
    servers: [
      { label: '@ws/server, perMessageDeflate: true, maxMessageSize 16 MiB', implementation: 'ours', settings: { perMessageDeflate: true } },
      { label: 'ws, perMessageDeflate: true, maxPayload 16 MiB', implementation: 'ws', settings: { perMessageDeflate: true } },
    ],
    limitMs: 30_000,
    attackSettings: (port) => ({ attack: 'deflate-bomb', port, connections: scale(100), inflatedSize: 15 * MiB, limitMs: 30_000 }),
  },
];

// ---- Processes -----------------------------------------------------------------------------

/** Every process started, killed on the way out whatever happens. */
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A bundled role in its own process, pinned to `core`, speaking JSON lines on stdout. */
class RoleProcess {
  readonly child: ChildProcess;
  readonly #queue: unknown[] = [];
  readonly #waiters: ((value: unknown) => void)[] = [];
  exitCode: number | null = null;

  constructor(core: number, role: string, args: readonly string[]) {
    const command = [process.execPath, `${outDirectory}/${role}.js`, ...args];
    // taskset execs node: the pid is the node process's, for /proc/<pid>/status.
    this.child = hasTaskset()
      ? spawn('taskset', ['-c', String(core), ...command], { cwd: benchDirectory, stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(command[0]!, command.slice(1), { cwd: benchDirectory, stdio: ['pipe', 'pipe', 'inherit'] });
    started.add(this.child);
    this.child.once('exit', (code, signal) => {
      this.exitCode = code ?? (signal === null ? -1 : 128);
      started.delete(this.child);
    });
    this.child.stdin!.on('error', () => undefined);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const value: unknown = JSON.parse(line);
      const waiter = this.#waiters.shift();
      if (waiter === undefined) this.#queue.push(value);
      else waiter(value);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The next JSON line, or undefined after `timeoutMs`. */
  next<T>(timeoutMs: number): Promise<T | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift() as T);
    return new Promise((resolve) => {
      const waiter = (value: unknown): void => {
        clearTimeout(timer);
        resolve(value as T);
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  ask<T>(line: string, timeoutMs: number): Promise<T | undefined> {
    if (this.exitCode === null) this.child.stdin!.write(`${line}\n`);
    return this.next<T>(timeoutMs);
  }

  kill(): void {
    if (this.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Samples a process's resident set (VmRSS in /proc/<pid>/status) every 50 ms; keeps the first and the peak. */
class RssSampler {
  readonly #path: string;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly baseline: number | undefined;
  peak = 0;

  constructor(pid: number) {
    this.#path = `/proc/${pid}/status`;
    this.baseline = this.#read();
    this.peak = this.baseline ?? 0;
    this.#timer = setInterval(() => {
      this.peak = Math.max(this.peak, this.#read() ?? 0);
    }, 50);
  }

  #read(): number | undefined {
    try {
      const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(this.#path, 'latin1'))?.[1];
      return kib === undefined ? undefined : Number(kib) * 1024;
    } catch {
      return undefined;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** After the attack: a fresh connection, one 16-byte message, its echo within 5 s. */
async function answersFreshConnection(port: number): Promise<string> {
  const start = performance.now();
  try {
    const { socket, rest } = await openRawPeer(port, { path: '/check', timeout: 5_000 });
    const reader = new ServerFrameReader();
    const echoed = new Promise<boolean>((resolve) => {
      const onData = (chunk: Buffer): void => {
        if (reader.push(chunk).some((frame) => frame.opcode === Opcode.Binary && frame.payload.length === 16)) resolve(true);
      };
      socket.on('data', onData);
      socket.on('close', () => resolve(false));
      socket.on('error', () => resolve(false));
      if (rest.length > 0) onData(rest);
    });
    socket.write(maskedFrame({ opcode: Opcode.Binary, payload: Buffer.alloc(16, 0x63) }));
    const answered = await Promise.race([echoed, sleep(5_000).then(() => false)]);
    socket.destroy();
    return answered ? `yes (${(performance.now() - start).toFixed(0)} ms)` : 'no: no echo within 5 s';
  } catch (error) {
    return `no: ${(error as Error).message}`;
  }
}

// ---- One attack on one server --------------------------------------------------------------


async function runOne(scenario: Scenario, target: ServerUnderTest): Promise<Row> {
  const processes: RoleProcess[] = [];
  try {
    const server = new RoleProcess(0, 'hostile-server', [target.implementation, JSON.stringify(target.settings)]);
    processes.push(server);
    const listening = await server.next<{ port: number }>(10_000);
    if (listening === undefined) throw new Error(`${target.label} did not start`);
    const { port } = listening;
    const probe = new RoleProcess(1, 'hostile-probe', [JSON.stringify({ port })]);
    processes.push(probe);
    if ((await probe.next(10_000)) === undefined) throw new Error('the probe did not connect');
    await sleep(300);
    const rss = new RssSampler(server.pid);
    await server.ask('mark', 5_000);
    const attacker = new RoleProcess(1, 'hostile-attacker', [JSON.stringify(scenario.attackSettings(port))]);
    processes.push(attacker);
    const attack = await attacker.next<AttackReport>(scenario.limitMs + 20_000);
    attacker.kill();
    // Closes caused by the attacker's exit land in the server's report.
    await sleep(300);
    rss.stop();
    const probeReport = await probe.ask<ProbeReport>('stop', 5_000);
    const serverReport = await server.ask<ServerReport>('report', 15_000);
    const stillUp = server.exitCode === null ? await answersFreshConnection(port) : `no: the process exited (${server.exitCode})`;
    return {
      scenario: scenario.name,
      server: target.label,
      stillUp,
      probe: probeReport,
      rssGrowth: rss.baseline === undefined ? undefined : rss.peak - rss.baseline,
      attack,
      serverReport,
      serverExit: server.exitCode,
    };
  } finally {
    for (const role of processes) role.kill();
  }
}

// ---- Run -----------------------------------------------------------------------------------

const wsVersion = (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('ws/package.json'), 'utf8')) as { version: string }).version;

const METHOD = [
  '### Method',
  '',
  `Each attack runs against a fresh server process per implementation: \`@ws/server\` with its default options and \`ws\` ${wsVersion} with its defaults (native \`bufferutil\`), each a plain echo server (\`connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }))\`, plus an \`'error'\` listener that records what failed a connection), on 127.0.0.1, port 0, started from a tsup bundle with plain \`node\`. The server is pinned to core 0, the attacker and the probe (two more processes) to core 1 (\`taskset\`: ${hasTaskset() ? 'yes' : 'no, not available here'}). Every attack is bounded in connections, bytes and time; every process is killed at the end of its row.`,
  '',
  '- **Still up**: after the attack (the attacker process gone), a fresh connection sends one 16-byte message; "yes" when its echo came back within 5 s (time from connect to echo).',
  '- **Probe**: one well-behaved connection, opened before the attack, sends a 16-byte message every 20 ms from its own process and times each echo; the cell is the worst round trip (or the age of the oldest unanswered message, if larger), the median, and how many were answered.',
  '- **Peak RSS growth**: the server process\'s VmRSS (`/proc/<pid>/status`), sampled every 50 ms from the start of the attack until 300 ms after the attacker exited, minus the sample at the start (idle server with the probe connected).',
  '- **Attacker dropped**: what each attacking connection saw, from the attacker\'s side: the close code it read, a reset, a FIN, or nothing (`never within the run`), with the time after the attack started (slowloris: after that connection\'s own connect). **Server side**: the error that failed each attacking connection as the server emitted it, the close code that error sent, when it was emitted, and the bytes the server had read from the socket when it closed.',
  '- **Event-loop stall**: reported by the server process itself, the maximum of `perf_hooks.monitorEventLoopDelay` (10 ms resolution) from the start of the attack to the report; the probe\'s worst round trip is the outside view of the same thing.',
];

await bundle(
  {
    'hostile-server': `${benchDirectory}src/hostile-server.ts`,
    'hostile-attacker': `${benchDirectory}src/hostile-attacker.ts`,
    'hostile-probe': `${benchDirectory}src/hostile-probe.ts`,
  },
  outDirectory,
);

const began = performance.now();
const sections: string[] = [];
const results: Row[] = [];
for (const scenario of SCENARIOS.filter((candidate) => selectedAttacks.has(candidate.attack))) {
  const rows: Row[] = [];
  for (const target of scenario.servers.filter((candidate) => selectedServers.has(candidate.implementation))) {
    process.stderr.write(`${scenario.name} — ${target.label}…\n`);
    const row = await runOne(scenario, target);
    rows.push(row);
    results.push(row);
    process.stderr.write(`  ${tableRow(row, scenario.attack)}\n`);
  }
  sections.push(
    '',
    `### ${scenario.name}`,
    '',
    '| server | still up after | probe: worst round trip | peak RSS growth | attacker dropped (attacker\'s side) | server side | event-loop stall (server, max) |',
    '|---|---|---|---:|---|---|---:|',
    ...rows.map((row) => tableRow(row, scenario.attack)),
    '',
    ...rows.map(detailsLine),
  );
}

const totalSeconds = (performance.now() - began) / 1000;
const markdown = [
  ...METHOD,
  '',
  `Node ${process.version}, ${QUICK ? 'HOSTILE_QUICK=1 (a tenth of the connections), ' : ''}total run ${totalSeconds.toFixed(0)} s.`,
  ...sections,
];
console.log(markdown.join('\n'));
mkdirSync(`${benchDirectory}bench-results`, { recursive: true });
writeFileSync(`${benchDirectory}bench-results/hostile.md`, `${markdown.join('\n')}\n`);
writeFileSync(
  `${benchDirectory}bench-results/hostile.json`,
  `${JSON.stringify({ node: process.version, pinned: hasTaskset(), quick: QUICK, totalSeconds, rows: results }, null, 2)}\n`,
);
process.exit(0);
