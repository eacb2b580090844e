import { Buffer } from 'node:buffer';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandClient, type Received } from '../../test/command-client.js';
import { ClusterAdapter } from '../index.js';

/**
 * ClusterAdapter with real `node:cluster` worker processes (test/cluster-fixture.ts): a primary
 * running the hub and two workers, each a server on its own port, with `ws` clients on both.
 */

const FIXTURE = fileURLToPath(new URL('../../test/cluster-fixture.ts', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The next IPC message from `child` that has `key`; rejects if the child exits first. */
function messageWith<Message>(child: ChildProcess, key: string): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>): void => {
      if (!(key in message)) return;
      child.off('message', onMessage).off('exit', onExit);
      resolve(message as Message);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`The cluster fixture exited (${code}) before answering`));
    };
    child.on('message', onMessage).once('exit', onExit);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startCluster(serialization: 'json' | 'advanced') {
  const child = fork(FIXTURE, [serialization], {
    cwd: PACKAGE_ROOT,
    execArgv: ['--conditions=@ws/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let pids: number[] = [];
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      if (child.connected) child.send({ stop: true });
      // A primary that does not stop in time is killed (the workers then lose their channel and exit).
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    }
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  const ready = await messageWith<{ ports: number[]; pids: number[] }>(child, 'ports');
  pids = ready.pids;
  return {
    ports: ready.ports,
    pids: ready.pids,
    /** How many workers the hub knows to have subscribers for `topic`. */
    async workers(topic: string): Promise<number> {
      const answer = messageWith<{ workers: number }>(child, 'workers');
      child.send({ workers: topic });
      return (await answer).workers;
    },
  };
}

function driver(port: number) {
  return commandClient(`ws://127.0.0.1:${port}`, cleanups);
}

const text = (value: string): Received => ({ data: Buffer.from(value), isBinary: false });
/** Every byte value, and bytes that are not UTF-8, to show the payload crosses unchanged. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, index) => index));

describe.each(['json', 'advanced'] as const)('ClusterAdapter, IPC serialization %s', (serialization) => {
  it('delivers a publish to the subscribers of every worker exactly once, never back to its own process', async () => {
    const cluster = await startCluster(serialization);
    const [onFirst, onSecond, alsoOnSecond] = [
      await driver(cluster.ports[0]!),
      await driver(cluster.ports[1]!),
      await driver(cluster.ports[1]!),
    ];
    for (const peer of [onFirst, onSecond, alsoOnSecond]) await peer.command({ subscribe: 'news' });
    await vi.waitFor(async () => expect(await cluster.workers('news')).toBe(2), { timeout: 10_000, interval: 20 });

    await onFirst.command({ publish: 'news', text: 'hello' });
    await onFirst.command({ publish: 'news', base64: ALL_BYTES.toString('base64'), binary: true });
    for (const peer of [onFirst, onSecond, alsoOnSecond]) {
      expect(await peer.next()).toEqual(text('hello'));
      expect(await peer.next()).toEqual({ data: ALL_BYTES, isBinary: true });
    }
    // Same publisher, same topic, so a copy of the first two would come before this one.
    await onFirst.command({ publish: 'news', text: 'first marker' });
    for (const peer of [onFirst, onSecond, alsoOnSecond]) expect(await peer.next()).toEqual(text('first marker'));
    // A topic nobody subscribed to does not travel; the second worker's marker then reaches the
    // first after anything the hub could have sent back to it.
    await onSecond.command({ publish: 'quiet', text: 'nobody' });
    await onSecond.command({ publish: 'news', text: 'second marker' });
    for (const peer of [onFirst, onSecond, alsoOnSecond]) expect(await peer.next()).toEqual(text('second marker'));

    // Once per process, not per subscriber: the second worker has two subscribers and received
    // three messages; the first received only the second worker's marker.
    expect(await onSecond.command({})).toEqual({ done: true, deliveries: 3 });
    expect(await onFirst.command({})).toEqual({ done: true, deliveries: 1 });
  });

  it('forwards to a worker only while it has subscribers, and forgets a worker that exits', async () => {
    const cluster = await startCluster(serialization);
    const [onFirst, onSecond] = [await driver(cluster.ports[0]!), await driver(cluster.ports[1]!)];
    await onFirst.command({ subscribe: 'news' });
    await onSecond.command({ subscribe: 'news' });
    await vi.waitFor(async () => expect(await cluster.workers('news')).toBe(2), { timeout: 10_000, interval: 20 });

    await onSecond.command({ unsubscribe: 'news' });
    await vi.waitFor(async () => expect(await cluster.workers('news')).toBe(1), { timeout: 10_000, interval: 20 });
    await onFirst.command({ publish: 'news', text: 'not for the second worker' });
    expect(await onSecond.command({})).toMatchObject({ deliveries: 0 });

    await onSecond.command({ subscribe: 'news' });
    await vi.waitFor(async () => expect(await cluster.workers('news')).toBe(2), { timeout: 10_000, interval: 20 });
    // Its last subscriber's connection closes: the worker leaves the topic.
    onSecond.client.close();
    await vi.waitFor(async () => expect(await cluster.workers('news')).toBe(1), { timeout: 10_000, interval: 20 });

    // A worker that dies without a word is dropped by the hub all the same.
    process.kill(cluster.pids[0]!, 'SIGKILL');
    await vi.waitFor(async () => expect(await cluster.workers('news')).toBe(0), { timeout: 10_000, interval: 20 });
  });
});

describe('ClusterAdapter outside a cluster', () => {
  it('says where each side runs', () => {
    expect(() => new ClusterAdapter()).toThrow('new ClusterAdapter() runs in a cluster worker');
  });
});
