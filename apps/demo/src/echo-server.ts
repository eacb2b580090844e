import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type PerMessageDeflateServerOptions, WebSocketServer } from '@ws/server';
import { DemoLog, type LogWriter } from './demo-log.js';
import { type CommandValues, EXIT_STATUS_TEXT, runCommand } from './run-command.js';
import { stopOnSignals } from './stop-on-signals.js';

/**
 * Conformance suites (Autobahn's 9.x cases) send messages of 16 MiB, which the server's safe
 * default limit would refuse with 1009: right for an application, wrong for a conformance run.
 */
export const ECHO_SERVER_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

export interface EchoServerOptions {
  readonly host?: string;
  /** Default 9001, the port Autobahn's fuzzing client configurations use. */
  readonly port?: number;
  /** One line per connection and per close. Default: nothing. */
  readonly log?: LogWriter;
  /**
   * permessage-deflate, for conformance sections 12 and 13 (Autobahn's compression cases).
   * Default off, as the server's own default.
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateServerOptions;
}

/**
 * A bare echo server for conformance runs: every message goes back with its type, nothing else.
 * The heartbeat is off, since a conformance suite expects no frame it did not ask for.
 * Resolves once it listens.
 */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<WebSocketServer> {
  const log = new DemoLog(options.log ?? (() => {}));
  const server = new WebSocketServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 9001,
    maxMessageSize: ECHO_SERVER_MAX_MESSAGE_SIZE,
    maxFrameSize: ECHO_SERVER_MAX_MESSAGE_SIZE,
    maxBufferedAmount: ECHO_SERVER_MAX_MESSAGE_SIZE,
    heartbeat: false,
    perMessageDeflate: options.perMessageDeflate ?? false,
  });
  server.on('connection', (connection, request) => {
    const id = log.open(request.url ?? '/', `${connection.remoteAddress}:${connection.remotePort}`);
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    // A case that breaks the protocol fails the connection: that is the expected outcome, not a crash.
    connection.on('error', () => {});
    connection.on('close', (code, reason, wasClean) => log.close(id, code, reason, wasClean));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}

/** The command line's options (`--help` aside). */
const ECHO_SERVER_OPTIONS = { deflate: { type: 'boolean', default: false } } as const;

const USAGE = `Usage: pnpm --filter demo echo [--deflate]

A bare echo server for conformance runs (ws-testkit server, Autobahn's fuzzing client): every
message goes back with its type, messages up to ${ECHO_SERVER_MAX_MESSAGE_SIZE / 1024 / 1024} MiB, no heartbeat. Ctrl-C (or
SIGTERM) closes every connection with 1001 and exits.

Options:
  --deflate    permessage-deflate on (conformance sections 12 and 13)
  -h, --help   this text

Environment:
  HOST   the address to listen on (default 127.0.0.1)
  PORT   the port (default 9001; 0 picks a free one, printed on start)

${EXIT_STATUS_TEXT}`;

/** The command line: `--deflate` turns permessage-deflate on. Throws on anything else. */
export function parseEchoServerArguments(args: readonly string[]): Pick<EchoServerOptions, 'perMessageDeflate'> {
  const { values } = parseArgs({ args: [...args], options: ECHO_SERVER_OPTIONS, strict: true });
  return { perMessageDeflate: values.deflate === true };
}

async function serve(values: CommandValues): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 9001);
  const perMessageDeflate = values.deflate === true;
  const server = await startEchoServer({ host, port, perMessageDeflate, log: (line) => console.log(line) });
  const address = server.address();
  const where = typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : String(address);
  const compression = perMessageDeflate ? ', permessage-deflate on' : '';
  console.log(`echo server on ws://${where} (messages up to ${ECHO_SERVER_MAX_MESSAGE_SIZE / 1024 / 1024} MiB${compression})`);
  stopOnSignals(async () => {
    console.log('shutting down');
    await server.close({ code: 1001, reason: 'Server shutting down' });
  });
}

// Run as a script (`pnpm --filter demo echo`), not when imported by a test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const status = await runCommand({ name: 'demo echo', usage: USAGE, options: ECHO_SERVER_OPTIONS, run: serve });
  // A server that failed to start may hold timers: exit rather than wait for them.
  if (status !== undefined) process.exit(status);
}
