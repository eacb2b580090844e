import { mkdir, writeFile } from 'node:fs/promises';
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

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** ANSI colours on stdout. */
  readonly color: boolean;
  /** Where relative report directories are resolved. */
  readonly cwd: string;
  /** Called once the client mode listens, with its URL (tests use it to start a client). */
  readonly onListening?: (url: string) => void;
}

export const USAGE = `Usage:
  ws-testkit server <ws://host:port/path> [options]   test a WebSocket echo server
  ws-testkit client [--host 127.0.0.1] [--port 9001] [options]
                                                     serve the Autobahn client protocol and test the client
                                                     that connects (/getCaseCount, /runCase, /updateReports)
  ws-testkit list [--cases …] [--slow] [--deflate]   list the cases

Options:
  --cases <patterns>      comma-separated: 1.*,5.*  6.4.1  7  !6.4.*   (default: all)
  --slow                  include section 9 (limits and performance)
  --deflate               include sections 12 and 13 (permessage-deflate); a target
                          that declines compression gets informational outcomes
  --agent <name>          name of the implementation in the reports
  --report-dir <dir>      where index.json and index.html go (default: ws-testkit-report)
  --no-report             write no report files
  --timeout <ms>          wait for a reply (default 2000)
  --fail-fast-wait <ms>   wait before sending the rest in fail-fast cases (default 1000)
  --verbose               one line per case
  --help                  this text

Exit status: 0 when no case failed, 1 when one did, 2 on a usage error.
`;

const OPTIONS = {
  cases: { type: 'string' },
  slow: { type: 'boolean' },
  deflate: { type: 'boolean' },
  agent: { type: 'string' },
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
    ...(io.onListening === undefined ? {} : { onListening: io.onListening }),
  };
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.help === true || command === undefined || command === 'help') {
      out.stdout(USAGE);
      return command === undefined && values.help !== true ? 2 : 0;
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
        if (url === undefined || !/^wss?:\/\//.test(url)) throw new UsageError('server needs the URL of an echo server, e.g. ws://127.0.0.1:9001');
        report = await runConformance({
          target: url,
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
        const server = await AutobahnServer.listen({
          host: values.host ?? '127.0.0.1',
          port,
          ...selection,
          timeouts,
          onCaseStart: reporter.onCaseStart,
          onCaseEnd: reporter.onCaseEnd,
        });
        out.stdout(`Serving ${server.cases.length} cases on ${server.url} (Autobahn client protocol); waiting for /updateReports\n`);
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
      const directory = path.resolve(out.cwd, values['report-dir'] ?? 'ws-testkit-report');
      await mkdir(directory, { recursive: true });
      await writeFile(path.join(directory, 'index.json'), formatJsonReport(report));
      await writeFile(path.join(directory, 'index.html'), renderHtmlReport(report));
      out.stdout(`Reports: ${path.join(directory, 'index.html')} and index.json\n`);
    }
    return report.summary.fail > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      out.stderr(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    out.stderr(`ws-testkit: ${(error as Error).message}\n`);
    return 1;
  }
}
