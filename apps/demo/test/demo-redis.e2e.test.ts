import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../../../scripts/vitest/chromium.js';
import { startRedis, type RedisProcess } from '../../../packages/redis/test/redis-process.js';
import { systemToolPath } from '../../../scripts/vitest/system-tools.js';

/**
 * Two demo processes (`src/main.ts`, as `pnpm --filter demo dev` runs it) on two ports with the
 * same REDIS_URL share the chat room: a page served by one sees what a page served by the other
 * says. Chromium and redis-server come from Debian; without either this skips with the line the
 * project's global setup prints, and under CI=true that setup fails the run instead.
 */
const REDIS_SERVER = systemToolPath('redis-server');
const DEMO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WAIT = { timeout: 10_000 };

interface DemoProcess {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** `src/main.ts` on a free port with REDIS_URL; resolves once it listens and Redis is reachable. */
async function startDemo(redisUrl: string): Promise<DemoProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ws/source', 'src/main.ts'], {
    cwd: DEMO_ROOT,
    env: { ...process.env, NO_COLOR: '1', PORT: '0', REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const listening = /demo on (http:\/\/\S+\/) /.exec(output);
      if (listening === null || !output.includes('chat shared through Redis at ')) return;
      child.stdout!.off('data', check);
      child.off('exit', onExit);
      resolve(listening[1]!);
    };
    const onExit = (): void => reject(new Error(`the demo exited before it was ready:\n${output}`));
    child.stdout!.on('data', check);
    child.once('exit', onExit);
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, output: () => output, stop };
}

/** How many connections subscribe to a Redis channel: an inline command on a plain socket. */
async function subscribers(redis: RedisProcess, channel: string): Promise<number> {
  const socket = connect(redis.port, '127.0.0.1');
  let reply = '';
  socket.on('data', (chunk) => (reply += chunk.toString()));
  await once(socket, 'connect');
  socket.write(`PUBSUB NUMSUB ${channel}\r\n`);
  while (!/:\d+\r\n$/.test(reply)) await once(socket, 'data');
  socket.destroy();
  return Number(/:(\d+)\r\n$/.exec(reply)![1]);
}

describe.skipIf(CHROMIUM === undefined || REDIS_SERVER === undefined)('the demo on Redis, in headless Chromium', () => {
  const cleanups: (() => unknown)[] = [];
  let redis: RedisProcess;
  let first: DemoProcess;
  let second: DemoProcess;
  let browser: Browser;

  beforeAll(async () => {
    redis = await startRedis(REDIS_SERVER!, cleanups);
    [first, second] = await Promise.all([startDemo(redis.url), startDemo(redis.url)]);
    cleanups.push(() => first.stop(), () => second.stop());
    browser = await launchChromium();
    cleanups.push(() => browser.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function open(demo: DemoProcess, name: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${demo.url}?name=${name}`);
    await expect.poll(() => page.locator('[data-connection="chat"] [data-field="state"]').textContent(), WAIT).toBe('open');
    return page;
  }

  it('shares the chat room between two demo processes on two ports', async () => {
    expect(first.url).not.toBe(second.url);
    const alice = await open(first, 'alice');
    const bob = await open(second, 'bob');
    // Each process subscribed the room's channel once, for its first member.
    await expect.poll(() => subscribers(redis, 'demo:chat'), WAIT).toBe(2);

    await alice.fill('#chat-input', 'hello from the first server');
    await alice.click('#chat-form button');
    const heard = bob.locator('#chat-messages li.said').last();
    await expect.poll(() => heard.locator('.text').textContent(), WAIT).toBe('hello from the first server');
    expect(await heard.locator('.name').textContent()).toBe('alice');

    await bob.fill('#chat-input', 'hi from the second');
    await bob.click('#chat-form button');
    await expect.poll(() => alice.locator('#chat-messages li.said .text').last().textContent(), WAIT).toBe('hi from the second');
    // Said once, heard once: Redis' echo of its own message is dropped by the publisher.
    expect(await alice.locator('#chat-messages li.said').allTextContents()).toHaveLength(2);
    expect(await bob.locator('#chat-messages li.said').allTextContents()).toHaveLength(2);

    // Joins and leaves cross too.
    const carol = await open(second, 'carol');
    await expect.poll(() => alice.locator('#chat-messages li.system').last().textContent(), WAIT).toBe('carol joined.');
    await carol.close();
    await expect.poll(() => alice.locator('#chat-messages li.system').last().textContent(), WAIT).toBe('carol left.');
    expect(first.output()).toContain('chat shared through Redis at 127.0.0.1:');
  });
});
