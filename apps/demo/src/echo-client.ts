import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, type ClientConnection, type ConnectOptions } from '@ws/client';
import type { LogWriter } from './demo-log.js';

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
}

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

  const caseCount = await readCaseCount(endpoint(base, 'getCaseCount', {}), connectOptions);
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

/** The fuzzing server's `/getCaseCount` answers with one text message, the number. */
async function readCaseCount(url: URL, connectOptions: ConnectOptions): Promise<number> {
  const connection = await connect(url, connectOptions);
  let text = '';
  for await (const message of connection) {
    text = message.toString();
    break;
  }
  await connection.close();
  const count = Number.parseInt(text, 10);
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`Not a case count: ${JSON.stringify(text)}`);
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

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { agent: { type: 'string', default: '@ws/client' } },
  });
  const url = positionals[0] ?? 'ws://127.0.0.1:9001';
  const { outcomes } = await runEchoClient(url, { agent: values.agent, log: (line) => console.log(line) });
  console.log(`done: ${outcomes.length} cases, reports under agent ${JSON.stringify(values.agent)}`);
}

// Run as a script (`pnpm --filter demo echo-client URL --agent NAME`), not when imported by a test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
