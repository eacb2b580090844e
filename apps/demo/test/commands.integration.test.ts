import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect as connectHttp2 } from 'node:http2';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { connect } from '@ws/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoServer } from '../src/create-demo-server.js';

/**
 * The demo's commands as a person runs them: `pnpm --filter demo <script> ...`, child processes
 * with bounded lives. `--silent` keeps pnpm's own lines out where the test reads the command's.
 */
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Run {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  /** Resolves with the exit status; the process is killed if it has not exited within `timeout`. */
  readonly exited: Promise<number | null>;
}

function pnpm(args: readonly string[], env: Record<string, string> = {}, timeout = 45_000): Run {
  // Its own process group, so that a signal reaches pnpm and the command as Ctrl-C would.
  const child = spawn('pnpm', args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk) => (output.stdout += chunk));
  child.stderr!.on('data', (chunk) => (output.stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`pnpm ${args.join(' ')} still running after ${timeout} ms:\n${output.stdout}${output.stderr}`));
    }, timeout);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve(status);
    });
  });
  return { child, output, exited };
}

/** Resolves once the output matches, with the match; rejects if the process exits first. */
function waitForOutput(run: Run, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(run.output.stdout);
      if (match === null) return;
      run.child.stdout!.off('data', check);
      resolve(match);
    };
    run.child.stdout!.on('data', check);
    run.exited.then(() => reject(new Error(`exited before printing ${pattern}:\n${run.output.stdout}${run.output.stderr}`)), reject);
    check();
  });
}

async function busyPort(): Promise<number> {
  const server: Server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

describe('--help', () => {
  it.each([
    [['dev', '--help'], 'Usage: pnpm --filter demo dev'],
    [['echo', '--', '--help'], 'Usage: pnpm --filter demo echo [--deflate]'],
    [['echo-client', '--', '--help'], 'Usage: pnpm --filter demo echo-client [ws://host:port] [--agent NAME]'],
  ])('pnpm --filter demo %j prints the usage and the exit statuses', async (args, first) => {
    const run = pnpm(['--silent', '--filter', 'demo', ...args]);
    expect(await run.exited).toBe(0);
    expect(run.output.stdout.split('\n')[0]).toBe(first);
    expect(run.output.stdout).toContain('Exit status:\n  0  done');
    expect(run.output.stderr).toBe('');
  });

  it('answers an unknown option with one line and status 2', async () => {
    const run = pnpm(['--silent', '--filter', 'demo', 'echo-client', '--bogus']);
    expect(await run.exited).toBe(2);
    expect(run.output.stderr).toBe('demo echo-client: unknown option --bogus (see --help)\n');
  });
});

describe('a port in use', () => {
  it.each(['dev', 'echo'])('pnpm --filter demo %s says so in one line and exits with 1', async (script) => {
    const port = await busyPort();
    const run = pnpm(['--silent', '--filter', 'demo', script], { PORT: String(port) });
    expect(await run.exited).toBe(1);
    expect(run.output.stderr).toBe(`demo ${script}: 127.0.0.1:${port} is already in use: stop what listens there, or set PORT to use another port\n`);
  });
});

describe('echo-client', () => {
  // The client gives up after its own 5 s case-count timeout; the guard below is only there so
  // that a hang fails the test, and is generous because starting pnpm and tsx on a busy machine
  // can take seconds by itself.
  it('fails by itself, saying why, when the server is not an Autobahn fuzzing server', async () => {
    const demo = await createDemoServer({ port: 0 });
    cleanups.push(() => demo.close());
    const url = demo.webSocketUrl.replace(/\/$/, '');
    const run = pnpm(['--silent', '--filter', 'demo', 'echo-client', url], {}, 60_000);
    expect(await run.exited).toBe(1);
    expect(run.output.stderr).toBe(
      `demo echo-client: ${url}/getCaseCount sent no case count within 5 s: is it an Autobahn fuzzing server (wstest -m fuzzingserver, or ws-testkit client)?\n`,
    );
  }, 90_000);
});

describe('Ctrl-C', () => {
  it.each([
    ['dev', /demo on http:\/\/[^/]+\/ \(WebSocket on (ws:\/\/[^ ]+)/, 'SIGINT: closing every connection with 1001, then exiting'],
    ['echo', /echo server on (ws:\/\/\S+)/, 'shutting down'],
  ])('closes every connection with 1001, and pnpm --filter demo %s exits with 0 and no error line', async (script, listening, goodbye) => {
    const run = pnpm(['--filter', 'demo', script], { PORT: '0' });
    const [, url] = await waitForOutput(run, listening);
    const client = await connect(url!);
    client.on('error', () => {});
    // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group (pnpm
    // then forwards it to the script as well: the script gets it twice).
    process.kill(-run.child.pid!, 'SIGINT');
    const { code, reason } = await client.closed;
    expect([code, reason]).toEqual([1001, 'Server shutting down']);
    expect(await run.exited).toBe(0);
    expect(run.output.stdout).toContain(goodbye);
    expect(run.output.stderr).toBe('');
    expect(run.output.stdout).not.toMatch(/ERR_PNPM|ELIFECYCLE|Command failed/);
  });
});

describe('HTTPS=1', () => {
  it('serves the page over HTTPS and HTTP/2 with a certificate made at start; a WebSocket rides HTTP/2 and is told so', async () => {
    const run = pnpm(['--silent', '--filter', 'demo', 'dev'], { PORT: '0', HTTPS: '1' });
    const [, page, url] = await waitForOutput(run, /demo on (https:\/\/[^/]+\/) \(WebSocket on (wss:\/\/[^ ]+)/);
    // The certificate is made by the process and trusted nowhere: this test does not check it.
    const session = connectHttp2(page!, { rejectUnauthorized: false });
    cleanups.push(() => void session.destroy());
    const request = session.request({ ':path': '/' });
    const [headers] = (await once(request, 'response')) as [Record<string, string>];
    expect(headers[':status']).toBe(200);
    expect(session.alpnProtocol).toBe('h2');
    request.resume();

    const overHttp2 = await connect(`${url}?transport`, { http2: true, rejectUnauthorized: false });
    cleanups.push(() => overHttp2.terminate());
    expect(overHttp2.httpVersion).toBe('2.0');
    const messages = overHttp2.messages();
    expect(JSON.parse(String((await messages.next()).value))).toEqual({ type: 'transport', httpVersion: '2.0' });
    overHttp2.send('hello over HTTP/2');
    expect(String((await messages.next()).value)).toBe('hello over HTTP/2');

    const overHttp1 = await connect(`${url}chat?transport`, { rejectUnauthorized: false });
    cleanups.push(() => overHttp1.terminate());
    expect(JSON.parse(String((await overHttp1.messages().next()).value))).toEqual({ type: 'transport', httpVersion: '1.1' });

    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output.stderr).toBe('');
  }, 30_000);
});
