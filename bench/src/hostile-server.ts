/**
 * The server process of the hostile-load benchmark, one implementation per process:
 *
 *   node dist/hostile/hostile-server.js ours|ws '{"perMessageDeflate":false,…}'
 *
 * A plain echo server: `@ws/server` with its default options, or `ws` with its defaults (and
 * `bufferutil`), except for what the settings change (see {@link ServerSettings}). Each
 * connection also has an `'error'` listener that records what failed it (as ws's own examples
 * do; `@ws/server` behaves the same with or without one). Prints `{"port":N}` once listening,
 * then answers lines on stdin with one JSON line each:
 *   `mark`:   the attack starts: the event-loop delay histogram starts over;
 *   `report`: the event loop's worst delay since `mark` (`perf_hooks.monitorEventLoopDelay`,
 *             10 ms resolution), the process's RSS and peak RSS, the open connections, and every
 *             connection closed so far: when, its close event's code, the error that failed it
 *             and the close code that error sent, and the bytes the server read from its socket.
 */
import type { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export interface ServerSettings {
  /** permessage-deflate on, with a 16 MiB cap on messages (`maxMessageSize` / `maxPayload`). */
  readonly perMessageDeflate?: boolean;
  /** @ws/server's `handshakeTimeout` (ms). */
  readonly handshakeTimeout?: number;
  /**
   * ws only: run it on a Node HTTP server with this `headersTimeout` (ms), checked every
   * `connectionsCheckingInterval` = a fifth of it: Node's own slowloris guard, the nearest thing
   * to a handshake timeout ws can be given.
   */
  readonly headersTimeout?: number;
}

export interface ClosedConnection {
  /** The request path: the probe connects to `/probe`. */
  readonly path: string;
  /** Epoch ms (`performance.timeOrigin + performance.now()`), comparable across processes. */
  readonly at: number;
  readonly code: number;
  /** The error that failed the connection, if one did. */
  readonly error?: string;
  /** The close code that error sent to the peer. */
  readonly closeCodeSent?: number;
  /** When the error was emitted (epoch ms). */
  readonly failedAt?: number;
  readonly bytesRead: number;
}

export interface ServerReport {
  readonly loopDelayMaxMs: number;
  readonly rss: number;
  /** Peak RSS of the process's life (`process.resourceUsage().maxRSS`), bytes. */
  readonly maxRss: number;
  readonly connections: number;
  readonly closed: readonly ClosedConnection[];
}

const MAX_MESSAGE = 16 * 1024 * 1024;
const now = (): number => performance.timeOrigin + performance.now();

const [implementation, settingsText] = process.argv.slice(2);
const settings = JSON.parse(settingsText ?? '{}') as ServerSettings;
const closed: ClosedConnection[] = [];

/** What failed a connection: the error's `code` and the close code it sent. */
interface Failure {
  readonly error: string;
  readonly closeCodeSent: number | undefined;
  readonly failedAt: number;
}

/** ws keeps the close code an error sends under a symbol (`kStatusCode`), not a named property. */
function wsStatusCode(error: Error): number | undefined {
  const symbol = Object.getOwnPropertySymbols(error).find((candidate) => candidate.description === 'status-code');
  return symbol === undefined ? undefined : ((error as unknown as Record<symbol, number>)[symbol] ?? undefined);
}

function record(path: string, socket: Socket, code: number, failure: Failure | undefined): void {
  closed.push({ path, at: now(), code, bytesRead: socket.bytesRead, ...failure });
}

async function startOurs(): Promise<{ port: number; connections: () => number }> {
  const { WebSocketServer } = await import('@ws/server');
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    ...(settings.handshakeTimeout === undefined ? {} : { handshakeTimeout: settings.handshakeTimeout }),
    ...(settings.perMessageDeflate === true ? { perMessageDeflate: true, maxMessageSize: MAX_MESSAGE } : {}),
  });
  server.on('connection', (connection, request) => {
    const socket = request.socket;
    let failure: Failure | undefined;
    connection.on('error', (error) => {
      const { code, closeCode } = error as Error & { code?: string; closeCode?: number };
      failure ??= { error: code ?? error.message, closeCodeSent: closeCode, failedAt: now() };
    });
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    connection.on('close', (code) => record(request.url ?? '', socket, code, failure));
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { port: (server.address() as { port: number }).port, connections: () => server.clients.size };
}

async function startWs(): Promise<{ port: number; connections: () => number }> {
  const { WebSocketServer } = await import('ws');
  const deflate = settings.perMessageDeflate === true ? { perMessageDeflate: true, maxPayload: MAX_MESSAGE } : {};
  let server: InstanceType<typeof WebSocketServer>;
  if (settings.headersTimeout === undefined) {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...deflate });
    await new Promise((resolve) => server.once('listening', resolve));
  } else {
    const http = createServer({
      headersTimeout: settings.headersTimeout,
      requestTimeout: settings.headersTimeout,
      connectionsCheckingInterval: settings.headersTimeout / 5,
    });
    server = new WebSocketServer({ server: http, ...deflate });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  }
  server.on('connection', (socket, request) => {
    const transport = request.socket;
    let failure: Failure | undefined;
    socket.on('error', (error) => {
      failure ??= { error: (error as Error & { code?: string }).code ?? error.message, closeCodeSent: wsStatusCode(error), failedAt: now() };
    });
    socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
    socket.on('close', (code) => record(request.url ?? '', transport, code, failure));
  });
  return { port: (server.address() as { port: number }).port, connections: () => server.clients.size };
}

if (implementation !== 'ours' && implementation !== 'ws') throw new Error(`usage: hostile-server.js ours|ws SETTINGS (got ${implementation})`);
const running = implementation === 'ours' ? await startOurs() : await startWs();

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

process.stdout.write(`${JSON.stringify({ port: running.port })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'mark') {
    loopDelay.reset();
    process.stdout.write('{}\n');
  } else if (line === 'report') {
    const report: ServerReport = {
      loopDelayMaxMs: loopDelay.max / 1e6,
      rss: process.memoryUsage.rss(),
      maxRss: process.resourceUsage().maxRSS * 1024,
      connections: running.connections(),
      closed,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  }
});
process.stdin.on('end', () => process.exit(0));
