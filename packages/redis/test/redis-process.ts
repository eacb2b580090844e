import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A `redis-server` of the tests' own, on a free loopback port, with nothing written to disk. */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** Kills it with `signal` and waits for it to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (after `kill`). */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Spawns redis-server (with `extraArguments`) and resolves once it accepts connections; rejects if it exits first. */
export function spawnRedis(executable: string, port: number, extraArguments: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn(executable, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArguments], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      // Keep draining its log so that it never blocks on a full pipe.
      child.stdout!.resume();
      resolve(child);
    };
    const onExit = (code: number | null): void => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', onExit);
  });
}

/** Starts redis-server; `cleanups` gets its stop. */
export async function startRedis(executable: string, cleanups: (() => unknown)[]): Promise<RedisProcess> {
  const port = await freePort();
  let child = await spawnRedis(executable, port);
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  cleanups.push(() => kill('SIGKILL'));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: async () => {
      child = await spawnRedis(executable, port);
    },
  };
}
