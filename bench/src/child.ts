import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hasTaskset } from './measurement.js';

const benchDirectory = fileURLToPath(new URL('..', import.meta.url));
/** Where `run.ts` writes the bundles the benchmark processes run. */
const outDirectory = fileURLToPath(new URL('../dist', import.meta.url));

/**
 * A benchmark process (a bundle in `dist/`, pinned to `core` with taskset when it can be)
 * speaking JSON lines on stdout, read in order.
 */
export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<unknown>;
  readonly #queue: unknown[] = [];
  readonly #waiters: ((value: unknown) => void)[] = [];

  constructor(core: number, script: string, args: readonly string[], nodeFlags: readonly string[] = []) {
    const command = [process.execPath, '--expose-gc', ...nodeFlags, `${outDirectory}/${script}.js`, ...args];
    this.process = hasTaskset()
      ? spawn('taskset', ['-c', String(core), ...command], { cwd: benchDirectory, stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(command[0]!, command.slice(1), { cwd: benchDirectory, stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) => this.process.once('exit', resolve));
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      const value: unknown = JSON.parse(line);
      const waiter = this.#waiters.shift();
      if (waiter === undefined) this.#queue.push(value);
      else waiter(value);
    });
  }

  next<T>(): Promise<T> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift() as T);
    return new Promise((resolve) => this.#waiters.push(resolve as (value: unknown) => void));
  }

  async ask<T>(line: string): Promise<T> {
    this.process.stdin!.write(`${line}\n`);
    return this.next<T>();
  }

  async stop(): Promise<void> {
    this.process.stdin!.end();
    await this.exited;
  }
}
