import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `pnpm ws-testkit ...` from the repository's root, as the README says to run it: from source, no build. */
function wsTestkit(args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['--silent', 'ws-testkit', ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('pnpm ws-testkit, from the repository root', () => {
  it('explains itself and its exit statuses', async () => {
    const { status, stdout } = await wsTestkit(['--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('Usage: ws-testkit <command> [options]');
    expect(stdout).toContain('  3  could not run');
  });

  it('tests a server and leaves its report in a temporary folder, not in the working tree', async () => {
    const echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    echo.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    await once(echo, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => echo.close(() => resolve())));
    const temporary = await mkdtemp(path.join(tmpdir(), 'ws-testkit-cli-'));
    cleanups.push(() => rm(temporary, { recursive: true, force: true }));
    const url = `ws://127.0.0.1:${(echo.address() as AddressInfo).port}`;

    const { status, stdout } = await wsTestkit(['server', url, '--cases', '1.1.1'], { TMPDIR: temporary });
    expect(status, stdout).toBe(0);
    // tsx keeps a cache folder of its own in the temporary directory too.
    const folder = (await readdir(temporary)).find((name) => name.startsWith('ws-testkit-report-'));
    expect(stdout).toContain(`Reports: ${path.join(temporary, folder!, 'index.html')} and index.json`);
    expect(existsSync(path.join(root, 'ws-testkit-report'))).toBe(false);
  });

  it('says in one line that the port is taken, and exits with 3', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => busy.close(() => resolve())));
    const port = (busy.address() as AddressInfo).port;
    const { status, stderr } = await wsTestkit(['client', '--port', String(port)]);
    expect(status).toBe(3);
    expect(stderr).toBe(`ws-testkit: 127.0.0.1:${port} is already in use; choose another port with --port (0 picks a free one)\n`);
  });
});
