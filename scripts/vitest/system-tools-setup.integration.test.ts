import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** Runs the demo's browser test file in a vitest of its own, the way `pnpm test` would. */
function runBrowserTests(env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'CI' && !name.startsWith('VITEST')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vitest, 'run', '--project', 'demo', 'test/demo.e2e.test.ts'], {
      cwd: root,
      env: { ...inherited, NO_COLOR: '1', CHROMIUM_PATH: '/nonexistent/chromium', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}

describe('a test that needs a browser the machine does not have', () => {
  it('is skipped with one line saying how to get one', async () => {
    const { status, output } = await runBrowserTests({});
    expect(status, output).toBe(0);
    const lines = output.split('\n').filter((line) => /chromium/i.test(line));
    expect(lines).toEqual([
      'Skipping the browser tests: no Chromium at /nonexistent/chromium (apt-get install chromium, or set CHROMIUM_PATH).',
    ]);
    expect(output).toMatch(/skipped/);
  });

  it('fails the run under CI=true', async () => {
    const { status, output } = await runBrowserTests({ CI: 'true' });
    expect(status).not.toBe(0);
    expect(output).toContain('CI=true and the browser tests need Chromium, which is not at /nonexistent/chromium');
    expect(output).not.toContain('Skipping the browser tests');
  });
});
