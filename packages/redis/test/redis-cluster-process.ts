import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnRedis } from './redis-process.js';

const run = promisify(execFile);

/** A Redis Cluster of the tests' own: masters on free loopback ports, no replicas, nothing saved. */
export interface RedisClusterProcess {
  readonly ports: readonly number[];
  /** `rootNodes` for `createCluster` or `new RedisAdapter({ cluster })`. */
  readonly rootNodes: readonly { readonly url: string }[];
  /** Runs `redis-cli -p port ...args` and returns its output. */
  cli(port: number, ...args: string[]): Promise<string>;
}

/**
 * Starts `masters` redis-servers with `--cluster-enabled yes` (each with its cluster config file
 * in a temporary folder), joins them with `redis-cli --cluster create`, and resolves once every
 * node says `cluster_state:ok`. `cleanups` gets their stop and the folder's removal.
 */
export async function startRedisCluster(
  tools: { readonly redisServer: string; readonly redisCli: string },
  cleanups: (() => unknown)[],
  masters = 3,
): Promise<RedisClusterProcess> {
  const folder = await mkdtemp(join(tmpdir(), 'ws-redis-cluster-'));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const ports: number[] = [];
  for (let index = 0; index < masters; index++) ports.push(await freePort());
  const children = await Promise.all(
    ports.map((port) =>
      spawnRedis(tools.redisServer, port, ['--cluster-enabled', 'yes', '--cluster-config-file', join(folder, `nodes-${port}.conf`)]),
    ),
  );
  for (const child of children) cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));

  const cli = async (port: number, ...args: string[]): Promise<string> =>
    (await run(tools.redisCli, ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout;
  await run(tools.redisCli, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
  // `--cluster create` returns once the slots are assigned; the nodes agree a moment later.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const states = await Promise.all(ports.map((port) => cli(port, 'cluster', 'info')));
    if (states.every((info) => info.includes('cluster_state:ok'))) break;
    if (Date.now() > deadline) throw new Error(`The cluster did not reach cluster_state:ok:\n${states.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ports, rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })), cli };
}
