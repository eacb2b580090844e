import { Buffer } from 'node:buffer';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { type Adapter, type DeliverRemote, WebSocketServer } from '@ws/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemToolPath } from '../../../scripts/vitest/system-tools.js';
import { commandClient, type Received } from '../../server/test/command-client.js';
import { type RedisProcess, startRedis } from '../test/redis-process.js';
import { RedisAdapter, type RedisAdapterOptions } from './index.js';

/**
 * RedisAdapter on a real redis-server (started per test on a free loopback port): two server
 * processes sharing topics, subscriptions that follow local subscribers, and Redis killed with
 * SIGKILL and restarted under a stream of publishes.
 */

const REDIS_SERVER = systemToolPath('redis-server');
const FIXTURE = fileURLToPath(new URL('../test/websocket-server-process.ts', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const QUICK_RECONNECT = { initialDelay: 20, maxDelay: 200 };
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
const text = (value: string): Received => ({ data: Buffer.from(value), isBinary: false });
const waitLong = { timeout: 10_000, interval: 20 };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The next `event` of an adapter (`once` of node:events would reject on its expected 'error' events). */
function next(adapter: RedisAdapter, event: 'outage' | 'ready'): Promise<void> {
  return new Promise((resolve) => adapter.once(event, () => resolve()));
}

/** Counts the adapter's deliveries from other processes: once per message, however many subscribers. */
function counted(adapter: Adapter): { adapter: Adapter; deliveries: () => number } {
  let deliveries = 0;
  return {
    deliveries: () => deliveries,
    adapter: {
      attach: (deliver: DeliverRemote) =>
        adapter.attach((topic, payload, flags) => {
          deliveries++;
          deliver(topic, payload, flags);
        }),
      subscribe: (topic) => adapter.subscribe(topic),
      unsubscribe: (topic) => adapter.unsubscribe(topic),
      publish: (topic, payload, flags) => adapter.publish(topic, payload, flags),
      close: () => adapter.close(),
    },
  };
}

/** A server in this process with a RedisAdapter, listening, and Redis reachable. */
async function localServer(options: RedisAdapterOptions) {
  const redis = new RedisAdapter({ reconnect: QUICK_RECONNECT, ...options } as RedisAdapterOptions);
  redis.on('error', () => {
    // Connection refusals while Redis is down are expected here; the counters tell the story.
  });
  const { adapter, deliveries } = counted(redis);
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', adapter, heartbeat: false });
  cleanups.push(() => server.close({ timeout: 200 }));
  await Promise.all([once(server, 'listening'), redis.whenReady()]);
  server.on('connection', (connection) => {
    connection.on('message', (data) => {
      const command = JSON.parse(data.toString()) as { subscribe?: string; unsubscribe?: string };
      if (command.subscribe !== undefined) connection.subscribe(command.subscribe);
      if (command.unsubscribe !== undefined) connection.unsubscribe(command.unsubscribe);
      connection.send(JSON.stringify({ done: true, deliveries: deliveries() }));
    });
  });
  const { port } = server.address() as { port: number };
  return { server, redis, deliveries, url: `ws://127.0.0.1:${port}` };
}

/** The same server in a child process (test/websocket-server-process.ts). */
async function childServer(redisUrl: string) {
  const child: ChildProcess = fork(FIXTURE, [redisUrl], {
    cwd: PACKAGE_ROOT,
    execArgv: ['--conditions=@ws/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.disconnect();
    const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(killer);
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`The server process exited (${code}) before listening`))),
  ])) as [{ port: number }];
  return { url: `ws://127.0.0.1:${message.port}` };
}

/** A plain client to ask Redis how many subscribers a channel has. */
async function inspector(redis: RedisProcess) {
  const client = createClient({ url: redis.url, socket: { reconnectStrategy: () => 20 } });
  client.on('error', () => {
    // Refused while Redis is down: the query waits for the reconnection.
  });
  await client.connect();
  cleanups.push(() => client.destroy());
  return async (channel: string): Promise<number> => {
    const counts = await client.pubSubNumSub(channel);
    return Number(counts[channel] ?? 0);
  };
}

describe.skipIf(REDIS_SERVER === undefined)('RedisAdapter on a real redis-server', () => {
  it('lets two server processes share topics: text and binary, once per process, never back to the publisher', async () => {
    const redis = await startRedis(REDIS_SERVER!, cleanups);
    const subscribers = await inspector(redis);
    const here = await localServer({ url: redis.url });
    const there = await childServer(redis.url);
    const [onHere, onThere, alsoOnThere] = [
      await commandClient(here.url, cleanups),
      await commandClient(there.url, cleanups),
      await commandClient(there.url, cleanups),
    ];
    for (const peer of [onHere, onThere, alsoOnThere]) await peer.command({ subscribe: 'news' });
    // One Redis subscription per process, not per subscriber.
    await vi.waitFor(async () => expect(await subscribers('ws:news')).toBe(2), waitLong);

    expect(here.server.publish('news', 'hello')).toMatchObject({ sent: 1 });
    here.server.publish('news', ALL_BYTES);
    for (const peer of [onHere, onThere, alsoOnThere]) {
      expect(await peer.next()).toEqual(text('hello'));
      expect(await peer.next()).toEqual({ data: ALL_BYTES, isBinary: true });
    }
    // Redis sends a publisher's own messages back to it: the origin id drops them. Anything
    // echoed would reach this process before the other one's marker.
    await onThere.command({ publish: 'news', text: 'marker' });
    for (const peer of [onHere, onThere, alsoOnThere]) expect(await peer.next()).toEqual(text('marker'));
    expect(here.deliveries()).toBe(1);
    expect(await onThere.command({})).toMatchObject({ deliveries: 2 });
  });

  it('subscribes to a channel only while the process has a local subscriber', async () => {
    const redis = await startRedis(REDIS_SERVER!, cleanups);
    const subscribers = await inspector(redis);
    const here = await localServer({ url: redis.url, prefix: 'app:' });
    const [first, second] = [await commandClient(here.url, cleanups), await commandClient(here.url, cleanups)];
    await first.command({ subscribe: 'room' });
    await second.command({ subscribe: 'room' });
    await vi.waitFor(async () => expect(await subscribers('app:room')).toBe(1), waitLong);
    await first.command({ unsubscribe: 'room' });
    expect(await subscribers('app:room')).toBe(1);
    second.client.close();
    await vi.waitFor(async () => expect(await subscribers('app:room')).toBe(0), waitLong);
  });

  it('goes on delivering locally through a Redis killed with SIGKILL, drops instead of queueing, and restores the subscriptions', async () => {
    const redis = await startRedis(REDIS_SERVER!, cleanups);
    const subscribers = await inspector(redis);
    const application = createClient({ url: redis.url, socket: { reconnectStrategy: () => 20 } });
    application.on('error', () => undefined);
    await application.connect();
    cleanups.push(() => application.destroy());
    const publisher = await localServer({ url: redis.url });
    // The other server publishes on the application's own client (and subscribes on a duplicate).
    const receiver = await localServer({ client: application });
    const [local, remote] = [await commandClient(publisher.url, cleanups), await commandClient(receiver.url, cleanups)];
    await local.command({ subscribe: 'news' });
    await remote.command({ subscribe: 'news' });
    await remote.command({ subscribe: 'gone' });
    await vi.waitFor(async () => {
      expect(await subscribers('ws:news')).toBe(2);
      expect(await subscribers('ws:gone')).toBe(1);
    }, waitLong);
    publisher.server.publish('news', 'before');
    expect(await local.next()).toEqual(text('before'));
    expect(await remote.next()).toEqual(text('before'));

    const outages = [next(publisher.redis, 'outage'), next(receiver.redis, 'outage')];
    await redis.kill('SIGKILL');
    await Promise.all(outages);
    expect(publisher.redis.isReady).toBe(false);

    // Local delivery goes on; what cannot reach Redis is counted, not held.
    const count = 1_000;
    for (let index = 0; index < count; index++) {
      expect(publisher.server.publish('news', Buffer.from([index & 0xff]))).toMatchObject({ sent: 1 });
    }
    for (let index = 0; index < count; index++) expect(await local.next()).toEqual({ data: Buffer.from([index & 0xff]), isBinary: true });
    expect(publisher.redis.droppedPublishes).toBe(count);
    // A subscription made, and one left, while Redis is away take effect when it is back.
    await remote.command({ subscribe: 'late' });
    await remote.command({ unsubscribe: 'gone' });

    const ready = [next(publisher.redis, 'ready'), next(receiver.redis, 'ready')];
    await redis.restart();
    await Promise.all(ready);
    await vi.waitFor(async () => {
      expect(await subscribers('ws:news')).toBe(2);
      expect(await subscribers('ws:late')).toBe(1);
    }, waitLong);
    // 'ready' came after the adapters brought the subscriptions in line.
    expect(await subscribers('ws:gone')).toBe(0);
    publisher.server.publish('news', 'after');
    publisher.server.publish('late', 'late');
    expect(await remote.next()).toEqual(text('after'));
    expect(await remote.next()).toEqual(text('late'));
    expect(await local.next()).toEqual(text('after'));
    expect([publisher.redis.outages, receiver.redis.outages]).toEqual([1, 1]);
  });

  it('lets server.close() complete while Redis is down, and leaves an application client open', async () => {
    const redis = await startRedis(REDIS_SERVER!, cleanups);
    const application = createClient({ url: redis.url, socket: { reconnectStrategy: () => 20 } });
    application.on('error', () => undefined);
    await application.connect();
    cleanups.push(() => application.destroy());
    const owned = await localServer({ url: redis.url });
    const borrowing = await localServer({ client: application });
    const outage = next(owned.redis, 'outage');
    await redis.kill('SIGKILL');
    await outage;
    await owned.server.close({ timeout: 200 });
    await borrowing.server.close({ timeout: 200 });
    expect(application.isOpen).toBe(true);
  });
});

describe('RedisAdapter options', () => {
  it('names the bad option', () => {
    expect(() => new RedisAdapter({} as RedisAdapterOptions)).toThrow('Give exactly one of the "url", "client" or "cluster" options');
    expect(() => new RedisAdapter({ url: 'redis://a', cluster: { rootNodes: [] } } as unknown as RedisAdapterOptions)).toThrow(TypeError);
    expect(() => new RedisAdapter({ url: 42 } as unknown as RedisAdapterOptions)).toThrow('The "url" option must be a string');
    expect(() => new RedisAdapter({ client: {} } as unknown as RedisAdapterOptions)).toThrow('"client"');
    expect(() => new RedisAdapter({ url: 'redis://a', maxPendingPublishes: 0 })).toThrow(RangeError);
    expect(() => new RedisAdapter({ url: 'redis://a', prefix: 1 } as unknown as RedisAdapterOptions)).toThrow('The "prefix" option must be a string');
    expect(() => new RedisAdapter({ url: 'redis://a', reconnect: { initialDelay: 500, maxDelay: 100 } })).toThrow(RangeError);
  });
});
