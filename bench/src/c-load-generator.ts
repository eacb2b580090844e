/**
 * The C load generator (`load-generator.c`): built here with the machine's C compiler when it
 * has one, run pinned to core 1. It masks every frame with a fresh key and checks every echoed
 * byte, at a fraction of the Node load generator's CPU cost, so that the server sets the rate.
 * Without a compiler (or with BENCH_LOAD=node) the echo section uses `load-generator.ts`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasTaskset } from './measurement.js';

const source = fileURLToPath(new URL('./load-generator.c', import.meta.url));

/** The built generator's path, or why there is none (the Node generator is used then). */
export type LoadGenerator = { readonly path: string } | { readonly reason: string };

/** Compiles the generator into `outDirectory`. */
export function buildCLoadGenerator(outDirectory: string): LoadGenerator {
  if (process.env.BENCH_LOAD === 'node') return { reason: 'BENCH_LOAD=node' };
  const path = `${outDirectory}/load-generator-c`;
  const compiler = process.env.CC ?? 'cc';
  try {
    execFileSync(compiler, ['-O2', '-o', path, source], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { path };
  } catch (error) {
    return { reason: `no C compiler (${compiler}: ${(error as Error).message.split('\n')[0]})` };
  }
}

export interface CLoadSettings {
  readonly port: number;
  readonly connections: number;
  readonly size: number;
  readonly window: number;
  readonly seconds: number;
}

/** One run of the generator; resolves with its JSON line. */
export function runCLoadGenerator<Result>(path: string, settings: CLoadSettings): Promise<Result> {
  const args = [settings.port, settings.connections, settings.size, settings.window, settings.seconds].map(String);
  const [command, ...rest] = hasTaskset() ? ['taskset', '-c', '1', path, ...args] : [path, ...args];
  return new Promise((resolve, reject) => {
    execFile(command!, rest, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`load-generator-c failed: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout) as Result);
    });
  });
}
