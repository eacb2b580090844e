import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { catalogue, selectCases } from '../catalogue/catalogue.js';
import type { CaseTimeouts } from '../catalogue/conformance-case.js';
import { AutobahnServer } from '../runner/autobahn-server.js';
import type { ConformanceReport } from '../runner/conformance-report.js';
import { renderHtmlReport } from '../runner/html-report.js';
import { formatJsonReport } from '../runner/json-report.js';
import { runConformance } from '../runner/run-conformance.js';
import { createProgressReporter, formatTerminalSummary } from '../runner/terminal-summary.js';
import { COMMAND_USAGE, USAGE } from './usage.js';

export { USAGE } from './usage.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** ANSI colours on stdout. */
  readonly color: boolean;
  /** Where a relative `--out` is resolved. */
  readonly cwd: string;
  /** Where the default report folder is made (a new folder in it per run). Default: the OS's temporary directory. */
  readonly temporaryDirectory?: string;
  /** Called once the client mode listens, with its URL (tests use it to start a client). */
  readonly onListening?: (url: string) => void;
}

const OPTIONS = {
  cases: { type: 'string' },
  slow: { type: 'boolean' },
  deflate: { type: 'boolean' },
  http2: { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' },
  agent: { type: 'string' },
  out: { type: 'string' },
  'report-dir': { type: 'string' },
  'no-report': { type: 'boolean' },
  timeout: { type: 'string' },
  'fail-fast-wait': { type: 'string' },
  verbose: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

/** The command ran into something outside it (a port in use): exit status 3. */
class RunError extends Error {}

const COMMANDS = new Set(Object.keys(COMMAND_USAGE));

/** One line for a failure to listen, naming the address and what to do. */
function listenFailure(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new RunError(`${host}:${port} is already in use; choose another port with --port (0 picks a free one)`);
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') return new RunError(`cannot listen on ${host}:${port} (${code}); choose another --host or --port`);
  return error as Error;
}

function milliseconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new UsageError(`--${name} must be a positive integer of milliseconds`);
  return number;
}

/**
 * The `ws-testkit` command, callable in-process: returns the exit status instead of exiting.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const out: CliIo = {
    stdout: io.stdout ?? ((text) => process.stdout.write(text)),
    stderr: io.stderr ?? ((text) => process.stderr.write(text)),
    color: io.color ?? (process.stdout.isTTY === true && process.env.NO_COLOR === undefined),
    cwd: io.cwd ?? process.cwd(),
    ...(io.temporaryDirectory === undefined ? {} : { temporaryDirectory: io.temporaryDirectory }),
    ...(io.onListening === undefined ? {} : { onListening: io.onListening }),
  };
  try {
    // `pnpm ws-testkit -- --help` passes the `--` on: it ends nothing here.
    const args = argv[0] === '--' ? argv.slice(1) : [...argv];
    const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (command === 'help') {
      const topic = rest[0];
      if (topic !== undefined && !COMMANDS.has(topic)) throw new UsageError(`Unknown command "${topic}"`);
      out.stdout(topic === undefined ? USAGE : COMMAND_USAGE[topic as keyof typeof COMMAND_USAGE]);
      return 0;
    }
    if (values.help === true || command === undefined) {
      out.stdout(command !== undefined && COMMANDS.has(command) ? COMMAND_USAGE[command as keyof typeof COMMAND_USAGE] : USAGE);
      return values.help === true ? 0 : 2;
    }
    const timeouts: Partial<CaseTimeouts> = {
      ...(values.timeout === undefined ? {} : { response: milliseconds(values.timeout, 'timeout')!, close: milliseconds(values.timeout, 'timeout')! }),
      ...(values['fail-fast-wait'] === undefined ? {} : { failFast: milliseconds(values['fail-fast-wait'], 'fail-fast-wait')! }),
    };
    const selection = {
      ...(values.cases === undefined ? {} : { cases: values.cases }),
      slow: values.slow === true,
      deflate: values.deflate === true,
    };
    const reporter = createProgressReporter(out.stdout, { color: out.color, verbose: values.verbose === true });
    let report: ConformanceReport;
    switch (command) {
      case 'list': {
        for (const conformanceCase of selectCases(catalogue, selection)) {
          const targets = conformanceCase.targets === undefined ? '' : ` [${conformanceCase.targets.join(', ')} only]`;
          out.stdout(`${conformanceCase.id.padEnd(8)} ${conformanceCase.description}${targets}\n`);
        }
        return 0;
      }
      case 'server': {
        const url = rest[0];
        const schemes = values.http2 === true ? /^(wss?|https?):\/\// : /^wss?:\/\//;
        if (url === undefined || !schemes.test(url)) throw new UsageError('server needs the URL of an echo server, e.g. ws://127.0.0.1:9001');
        report = await runConformance({
          target: url,
          http2: values.http2 === true,
          ...selection,
          timeouts,
          agent: values.agent ?? url,
          onCaseStart: reporter.onCaseStart,
          onCaseEnd: reporter.onCaseEnd,
        });
        break;
      }
      case 'client': {
        const port = values.port === undefined ? 9001 : Number(values.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
        const host = values.host ?? '127.0.0.1';
        const tls = await serverTls(values.cert, values.key, values.http2 === true, out.cwd);
        const server = await AutobahnServer.listen({
          host,
          port,
          ...(values.http2 === true ? { http2: true } : {}),
          ...(tls === undefined ? {} : { tls }),
          ...selection,
          timeouts,
          onCaseStart: reporter.onCaseStart,
          onCaseEnd: reporter.onCaseEnd,
        }).catch((error: unknown) => {
          throw listenFailure(error, host, port);
        });
        const over = values.http2 === true ? `, over HTTP/2 (${tls === undefined ? 'h2c' : 'h2 over TLS'})` : '';
        out.stdout(`Serving ${server.cases.length} cases on ${server.url} (Autobahn client protocol${over}); waiting for /updateReports\n`);
        out.onListening?.(server.url);
        try {
          const received = await server.waitForReport();
          report = values.agent === undefined ? received : { ...received, agent: values.agent };
        } finally {
          await server.close();
        }
        break;
      }
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
    out.stdout(formatTerminalSummary(report, { color: out.color }));
    if (values['no-report'] !== true) {
      const directory = await reportDirectory(values.out ?? values['report-dir'], out);
      await writeFile(path.join(directory, 'index.json'), formatJsonReport(report));
      await writeFile(path.join(directory, 'index.html'), renderHtmlReport(report));
      out.stdout(`Reports: ${path.join(directory, 'index.html')} and index.json\n`);
    }
    return report.summary.fail > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      out.stderr(`ws-testkit: ${(error as Error).message}\n(ws-testkit --help lists the commands and options)\n`);
      return 2;
    }
    out.stderr(`ws-testkit: ${(error as Error).message}\n`);
    return error instanceof RunError ? 3 : 1;
  }
}

/** `--cert` and `--key` of the client command: PEM files for h2 over TLS, both or neither, with --http2. */
async function serverTls(cert: string | undefined, key: string | undefined, http2: boolean, cwd: string): Promise<{ cert: string; key: string } | undefined> {
  if (cert === undefined && key === undefined) return undefined;
  if (!http2) throw new UsageError('--cert and --key apply with --http2: they serve h2 over TLS');
  if (cert === undefined || key === undefined) throw new UsageError('--cert and --key go together');
  try {
    return { cert: await readFile(path.resolve(cwd, cert), 'utf8'), key: await readFile(path.resolve(cwd, key), 'utf8') };
  } catch (error) {
    throw new RunError(`cannot read the certificate or key: ${(error as Error).message}`);
  }
}

/**
 * `--out`, resolved against the working directory, or else a new folder in the temporary
 * directory: a run never writes into the project it was started from unless asked to.
 */
async function reportDirectory(requested: string | undefined, io: CliIo): Promise<string> {
  try {
    if (requested === undefined) return await mkdtemp(path.join(io.temporaryDirectory ?? tmpdir(), 'ws-testkit-report-'));
    const directory = path.resolve(io.cwd, requested);
    await mkdir(directory, { recursive: true });
    return directory;
  } catch (error) {
    throw new RunError(`cannot write the reports: ${(error as Error).message}`);
  }
}
