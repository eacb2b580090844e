import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startTestServer } from '../peer/start-test-server.js';
import { runCli } from './run-cli.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'ws-testkit-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

function capture() {
  const output = { stdout: '', stderr: '' };
  return {
    output,
    io: { stdout: (text: string) => (output.stdout += text), stderr: (text: string) => (output.stderr += text), color: false },
  };
}

function request(url: string, echo: boolean): Promise<string[]> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    const client = new WebSocket(url);
    client.on('message', (data, isBinary) => (echo ? client.send(data, { binary: isBinary }) : messages.push(data.toString())));
    client.on('error', () => undefined);
    client.on('close', () => resolve(messages));
  });
}

describe('ws-testkit', () => {
  it('tests a server, prints a summary and writes JSON and HTML reports', async () => {
    const wss = new WebSocketServer({ noServer: true });
    wss.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
      socket.on('error', () => undefined);
    });
    const server = await startTestServer((request, socket, head) =>
      wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request)),
    );
    cleanups.push(() => server.close());
    const directory = await temporaryDirectory();
    const { output, io } = capture();
    const status = await runCli(['server', server.url, '--cases', '1.1.*,2.*', '--agent', 'ws', '--out', 'out'], { ...io, cwd: directory });
    expect(output.stderr).toBe('');
    expect(status).toBe(0);
    expect(output.stdout).toContain(' 1 Framing                  ........');
    expect(output.stdout).toContain('19 cases: 19 pass, 0 non-strict, 0 informational, 0 fail');
    const json = JSON.parse(await readFile(path.join(directory, 'out', 'index.json'), 'utf8'));
    expect(json.cases).toHaveLength(19);
    expect(json.agent).toBe('ws');
    const html = await readFile(path.join(directory, 'out', 'index.html'), 'utf8');
    expect(html).toContain('id="case-2.11"');
  });

  it('writes its reports to a new temporary folder unless told where, never into the working directory', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const working = await temporaryDirectory();
    const temporary = await temporaryDirectory();
    const { output, io } = capture();
    // Nothing listens for upgrades: the case fails, and the report is written all the same.
    expect(await runCli(['server', server.url, '--cases', '1.1.1'], { ...io, cwd: working, temporaryDirectory: temporary })).toBe(1);
    expect(await readdir(working)).toEqual([]);
    const [folder, ...others] = await readdir(temporary);
    expect(others).toEqual([]);
    expect(folder).toMatch(/^ws-testkit-report-/);
    expect(output.stdout).toContain(`Reports: ${path.join(temporary, folder!, 'index.html')} and index.json`);
    expect(JSON.parse(await readFile(path.join(temporary, folder!, 'index.json'), 'utf8')).cases).toHaveLength(1);
  });

  it('says in one line that the port is taken, and exits with 3', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => busy.close(() => resolve())));
    const port = (busy.address() as AddressInfo).port;
    const { output, io } = capture();
    expect(await runCli(['client', '--port', String(port), '--no-report'], io)).toBe(3);
    expect(output.stderr).toBe(`ws-testkit: 127.0.0.1:${port} is already in use; choose another port with --port (0 picks a free one)\n`);
  });

  it('exits with 1 when a case fails', async () => {
    const { output, io } = capture();
    const status = await runCli(['server', 'ws://127.0.0.1:1', '--cases', '1.1.1', '--no-report'], io);
    expect(status).toBe(1);
    expect(output.stdout).toMatch(/1\.1\.1\s+fail\s+.*ECONNREFUSED/);
  });

  it('serves the Autobahn client protocol until a client asks for its reports', async () => {
    const directory = await temporaryDirectory();
    const { output, io } = capture();
    // --report-dir: the name --out had before, still understood.
    const running = runCli(['client', '--port', '0', '--cases', '5.*', '--report-dir', directory, '--verbose', '--agent', 'ws-client'], {
      ...io,
      onListening: (url) => {
        void (async () => {
          const [count] = await request(`${url}/getCaseCount`, false);
          for (let index = 1; index <= Number(count); index++) await request(`${url}/runCase?case=${index}&agent=ws`, true);
          await request(`${url}/updateReports?agent=ws`, false);
        })();
      },
    });
    expect(await running).toBe(0);
    expect(output.stdout).toMatch(/Serving 20 cases on ws:\/\/127\.0\.0\.1:\d+/);
    expect(output.stdout).toMatch(/\[20\/20\] 5\.20 {5}pass/);
    const json = JSON.parse(await readFile(path.join(directory, 'index.json'), 'utf8'));
    expect(json).toMatchObject({ agent: 'ws-client', target: { kind: 'client' }, summary: { pass: 20, total: 20 } });
  });

  it('lists cases and explains its usage', async () => {
    const { output, io } = capture();
    expect(await runCli(['list', '--cases', '10.5.*'], io)).toBe(0);
    expect(output.stdout.trim().split('\n')).toHaveLength(5);
    expect(output.stdout).toContain('[server only]');
    const { output: deflateOutput, io: deflateIo } = capture();
    expect(await runCli(['list', '--deflate', '--cases', '12.*,13.*'], deflateIo)).toBe(0);
    expect(deflateOutput.stdout.trim().split('\n')).toHaveLength(150);
    const { output: defaultOutput, io: defaultIo } = capture();
    expect(await runCli(['list'], defaultIo)).toBe(0);
    expect(defaultOutput.stdout).not.toMatch(/^1[23]\./m);
    expect(await runCli(['--help'], io)).toBe(0);
    expect(output.stdout).toContain('Usage: ws-testkit <command> [options]');
    expect(output.stdout).toContain('Exit status:\n  0  no case failed');
    expect(await runCli(['server'], io)).toBe(2);
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(await runCli(['list', '--bogus'], io)).toBe(2);
    expect(output.stderr).toContain('Unknown command "frobnicate"');
  });

  it('explains each command with --help, also after the -- that pnpm passes on', async () => {
    for (const [argv, first] of [
      [['server', '--help'], 'Usage: ws-testkit server <ws://host:port/path> [options]'],
      [['--', 'client', '--help'], 'Usage: ws-testkit client [--host 127.0.0.1] [--port 9001] [options]'],
      [['help', 'list'], 'Usage: ws-testkit list [options]'],
      [['--', '--help'], 'Usage: ws-testkit <command> [options]'],
    ] as const) {
      const { output, io } = capture();
      expect(await runCli(argv, io)).toBe(0);
      expect(output.stdout.split('\n')[0]).toBe(first);
      if (/ (server|client) /.test(first)) expect(output.stdout).toContain('--out <dir>');
    }
    const { output, io } = capture();
    expect(await runCli(['help', 'frobnicate'], io)).toBe(2);
    expect(output.stderr).toBe('ws-testkit: Unknown command "frobnicate"\n(ws-testkit --help lists the commands and options)\n');
  });
});
