import { describe, expect, it } from 'vitest';
import { CommandError, describeFailure, runCommand, UsageError } from './run-command.js';

function capture() {
  const output = { stdout: '', stderr: '' };
  return { output, io: { stdout: (text: string) => (output.stdout += text), stderr: (text: string) => (output.stderr += text) } };
}

const spec = (run: () => Promise<void> = async () => {}) => ({
  name: 'demo test',
  usage: 'Usage: demo test\n',
  options: { deflate: { type: 'boolean' as const } },
  run,
});

describe('runCommand', () => {
  it('prints the usage for --help and -h, also after the -- pnpm passes on', async () => {
    for (const argv of [['--help'], ['-h'], ['--', '--help']]) {
      const { output, io } = capture();
      expect(await runCommand(spec(), argv, io)).toBe(0);
      expect(output.stdout).toBe('Usage: demo test\n');
    }
  });

  it('answers a usage error with one line and 2', async () => {
    const { output, io } = capture();
    expect(await runCommand(spec(), ['--deflat'], io)).toBe(2);
    expect(output.stderr).toBe('demo test: unknown option --deflat (see --help)\n');
    const thrown = capture();
    expect(await runCommand(spec(() => Promise.reject(new UsageError('expected a URL'))), [], thrown.io)).toBe(2);
    expect(thrown.output.stderr).toBe('demo test: expected a URL (see --help)\n');
  });

  it('answers a failure with one line and 1, and leaves a running command alone', async () => {
    const { output, io } = capture();
    expect(await runCommand(spec(() => Promise.reject(new CommandError('no case count'))), [], io)).toBe(1);
    expect(output.stderr).toBe('demo test: no case count\n');
    expect(await runCommand(spec(), ['--deflate'], capture().io)).toBeUndefined();
  });
});

describe('describeFailure', () => {
  it('names the address of a port in use', () => {
    const error = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', address: '127.0.0.1', port: 3000 });
    expect(describeFailure(error)).toBe('127.0.0.1:3000 is already in use: stop what listens there, or set PORT to use another port');
  });

  it('keeps the stack of what is a bug', () => {
    expect(describeFailure(new TypeError('x is undefined'))).toMatch(/^TypeError: x is undefined\n\s+at /);
  });
});
