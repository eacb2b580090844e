import { pathToFileURL } from 'node:url';
import { connect, type ClientConnection, type ConnectOptions } from '@ws/client';
import type { LogWriter } from './demo-log.js';
import { type CommandValues, CommandError, EXIT_STATUS_TEXT, UsageError, runCommand } from './run-command.js';

/**
 * Conformance suites send messages of 16 MiB and more; the client's safe default would fail
 * them with 1009, which is right for an application and wrong for a conformance run.
 */
export const ECHO_CLIENT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

export interface EchoClientOptions {
  /** The agent name the reports are filed under. */
  readonly agent: string;
  /** One line per case. Default: nothing. */
  readonly log?: LogWriter;
  /** Extra options for every `connect` (TLS settings, timeouts). */
  readonly connectOptions?: ConnectOptions;
  /**
   * How long `/getCaseCount` may take to answer, in ms. Default 5000: a fuzzing server answers at
   * once, and anything else (an echo server, the demo) would otherwise leave the run waiting forever.
   */
  readonly caseCountTimeout?: number;
}

/** The default of {@link EchoClientOptions.caseCountTimeout}. */
export const CASE_COUNT_TIMEOUT = 5_000;

export interface EchoClientResult {
  readonly caseCount: number;
  /** How each case's connection ended, by case number (1-based); `error` when the connect failed. */
  readonly outcomes: readonly string[];
}

/**
 * Drives a client conformance run with the Autobahn test suite's protocol: ask the fuzzing
 * server for its case count (`/getCaseCount`), run every case (`/runCase?case=N&agent=NAME`),
 * echoing each message with its type until the server closes, then have it write the reports
 * (`/updateReports?agent=NAME`).
 */
export async function runEchoClient(baseUrl: string | URL, options: EchoClientOptions): Promise<EchoClientResult> {
  const base = new URL(baseUrl);
  const log = options.log ?? (() => {});
  const connectOptions: ConnectOptions = {
    maxMessageSize: ECHO_CLIENT_MAX_MESSAGE_SIZE,
    maxFrameSize: ECHO_CLIENT_MAX_MESSAGE_SIZE,
    ...options.connectOptions,
  };

  const caseCount = await readCaseCount(endpoint(base, 'getCaseCount', {}), connectOptions, options.caseCountTimeout ?? CASE_COUNT_TIMEOUT);
  log(`${caseCount} cases to run as agent ${JSON.stringify(options.agent)}`);

  const outcomes: string[] = [];
  for (let caseNumber = 1; caseNumber <= caseCount; caseNumber += 1) {
    const url = endpoint(base, 'runCase', { case: String(caseNumber), agent: options.agent });
    const outcome = await echoUntilClosed(url, connectOptions);
    outcomes.push(outcome);
    log(`case ${caseNumber}/${caseCount}: ${outcome}`);
  }

  const reports = await connect(endpoint(base, 'updateReports', { agent: options.agent }), connectOptions);
  await reports.closed;
  log('reports updated');
  return { caseCount, outcomes };
}

/** What to tell a person whose server did not speak the fuzzing server's protocol. */
const NOT_A_FUZZING_SERVER = 'is it an Autobahn fuzzing server (wstest -m fuzzingserver, or ws-testkit client)?';

/**
 * The fuzzing server's `/getCaseCount` answers with one text message, the number. Anything else
 * (silence past `timeout`, a close without it, another message) is not a fuzzing server.
 */
async function readCaseCount(url: URL, connectOptions: ConnectOptions, timeout: number): Promise<number> {
  let connection: ClientConnection;
  try {
    connection = await connect(url, connectOptions);
  } catch (error) {
    throw new CommandError(`could not open ${url.href}: ${(error as Error).message}`, { cause: error });
  }
  connection.on('error', () => {});
  const messages = connection.messages();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const silence = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeout)));
  const next = messages.next();
  // Once the race is lost, the pending read fails with the terminated connection: expected.
  next.catch(() => {});
  let first: IteratorResult<string | Buffer> | 'timeout';
  try {
    first = await Promise.race([next, silence]);
  } catch {
    first = { done: true, value: undefined };
  } finally {
    clearTimeout(timer);
  }
  if (first === 'timeout') {
    connection.terminate();
    throw new CommandError(`${url.href} sent no case count within ${timeout / 1000} s: ${NOT_A_FUZZING_SERVER}`);
  }
  await connection.close();
  const text = first.done === true ? undefined : first.value.toString();
  const count = text === undefined ? Number.NaN : Number.parseInt(text, 10);
  if (!Number.isSafeInteger(count) || count < 0 || String(count) !== text?.trim()) {
    const answer = text === undefined ? 'closed without a case count' : `answered ${JSON.stringify(text.slice(0, 40))}, not a case count`;
    throw new CommandError(`${url.href} ${answer}: ${NOT_A_FUZZING_SERVER}`);
  }
  return count;
}

async function echoUntilClosed(url: URL, connectOptions: ConnectOptions): Promise<string> {
  let connection: ClientConnection;
  try {
    connection = await connect(url, connectOptions);
  } catch (error) {
    // Some cases reject the handshake on purpose; the run goes on with the next one.
    return `error ${(error as Error).message}`;
  }
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
  // A case that breaks the protocol fails the connection; the error is the expected outcome.
  connection.on('error', () => {});
  const { code, reason } = await connection.closed;
  return `closed ${code}${reason === '' ? '' : ` ${JSON.stringify(reason)}`}`;
}

function endpoint(base: URL, name: string, query: Record<string, string>): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${name}`;
  url.search = new URLSearchParams(query).toString();
  return url;
}

const USAGE = `Usage: pnpm --filter demo echo-client [ws://host:port] [--agent NAME]

Drives an Autobahn fuzzing server (wstest -m fuzzingserver, or ws-testkit client) with @ws/client:
reads /getCaseCount, runs /runCase?case=N&agent=NAME for every case, echoing each message with
its type, then asks for the reports with /updateReports?agent=NAME. A server that does not
answer /getCaseCount within ${CASE_COUNT_TIMEOUT / 1000} s is not a fuzzing server: the command says so and exits 1.

Arguments:
  ws://host:port   the fuzzing server (default ws://127.0.0.1:9001)

Options:
  --agent NAME     the name the reports are filed under (default @ws/client)
  -h, --help       this text

${EXIT_STATUS_TEXT}`;

async function drive(values: CommandValues, positionals: readonly string[]): Promise<void> {
  const agent = typeof values.agent === 'string' ? values.agent : '@ws/client';
  const url = positionals[0] ?? 'ws://127.0.0.1:9001';
  if (positionals.length > 1 || !/^wss?:\/\//.test(url)) throw new UsageError(`expected one ws:// or wss:// URL, got ${positionals.join(' ')}`);
  const { outcomes } = await runEchoClient(url, { agent, log: (line) => console.log(line) });
  console.log(`done: ${outcomes.length} cases, reports under agent ${JSON.stringify(agent)}`);
}

// Run as a script (`pnpm --filter demo echo-client URL --agent NAME`), not when imported by a test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const status = await runCommand({
    name: 'demo echo-client',
    usage: USAGE,
    options: { agent: { type: 'string' } },
    allowPositionals: true,
    run: drive,
  });
  process.exit(status ?? 0);
}
