import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { createClient } from '@redis/client';
import { WebSocketServer } from '@ws/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemToolPath } from '../../../scripts/vitest/system-tools.js';
import { type CommandClient, commandClient, type Received } from '../../server/test/command-client.js';
import { type RedisClusterProcess, startRedisCluster } from '../test/redis-cluster-process.js';
import { RedisAdapter } from './index.js';

/**
 * RedisAdapter on a real Redis Cluster of three masters (started per test on free loopback
 * ports and joined with `redis-cli --cluster create`): sharded Pub/Sub across shards.
 */
const REDIS_SERVER = systemToolPath('redis-server');
const REDIS_CLI = systemToolPath('redis-cli');
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
const waitLong = { timeout: 10_000, interval: 50 };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server in this process with a cluster RedisAdapter, counting what the adapter delivers from other processes. */
async function clusterServer(cluster: RedisClusterProcess) {
  const redis = new RedisAdapter({ cluster: { rootNodes: [...cluster.rootNodes] } });
  redis.on('error', () => {
    // Nothing is expected to fail; an unexpected error shows up as missing messages.
  });
  let deliveries = 0;
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    heartbeat: false,
    adapter: {
      attach: (deliver) =>
        redis.attach((topic, payload, flags) => {
          deliveries++;
          deliver(topic, payload, flags);
        }),
      subscribe: (topic) => redis.subscribe(topic),
      unsubscribe: (topic) => redis.unsubscribe(topic),
      publish: (topic, payload, flags) => redis.publish(topic, payload, flags),
      close: () => redis.close(),
    },
  });
  cleanups.push(() => server.close({ timeout: 200 }));
  await Promise.all([once(server, 'listening'), redis.whenReady()]);
  server.on('connection', (connection) => {
    connection.on('message', (data) => {
      const command = JSON.parse(data.toString()) as { subscribe?: string[] };
      for (const topic of command.subscribe ?? []) connection.subscribe(topic);
      connection.send(JSON.stringify({ done: true, deliveries }));
    });
  });
  const { port } = server.address() as { port: number };
  return { server, redis, deliveries: () => deliveries, url: `ws://127.0.0.1:${port}` };
}

/** A topic per master, each `ws:` channel in a slot that master owns, and the port of its owner. */
async function topicPerShard(cluster: RedisClusterProcess): Promise<{ topic: string; port: number }[]> {
  const client = createClient({ url: cluster.rootNodes[0]!.url });
  await client.connect();
  cleanups.push(() => client.destroy());
  const ranges = (await client.sendCommand(['CLUSTER', 'SLOTS'])) as [number, number, [string, number, ...unknown[]]][];
  const owner = (slot: number) => ranges.find(([first, last]) => slot >= first && slot <= last)![2][1];
  const chosen = new Map<number, string>();
  for (let index = 0; chosen.size < cluster.ports.length; index++) {
    const topic = `room-${index}`;
    const port = owner(Number(await client.sendCommand(['CLUSTER', 'KEYSLOT', `ws:${topic}`])));
    if (!chosen.has(port)) chosen.set(port, topic);
  }
  return [...chosen].map(([port, topic]) => ({ topic, port }));
}

/** The next `count` messages of a client, each keyed by its text (a binary one by its tail after ALL_BYTES). */
async function receive(peer: CommandClient, count: number): Promise<string[]> {
  const keys: string[] = [];
  for (let index = 0; index < count; index++) {
    const { data, isBinary }: Received = await peer.next();
    if (!isBinary) keys.push(`text ${data.toString()}`);
    else {
      expect(data.subarray(0, ALL_BYTES.length)).toEqual(ALL_BYTES);
      keys.push(`binary ${data.subarray(ALL_BYTES.length).toString()}`);
    }
  }
  return keys.sort();
}

/** How many times a node ran `command` (from INFO commandstats). */
async function calls(cluster: RedisClusterProcess, port: number, command: string): Promise<number> {
  const stats = await cluster.cli(port, 'info', 'commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

describe.skipIf(REDIS_SERVER === undefined || REDIS_CLI === undefined)('RedisAdapter on a real 3-master Redis Cluster', () => {
  it('shares topics on different shards between two servers: text and binary, once per process, by SPUBLISH to the owning shard', async () => {
    const cluster = await startRedisCluster({ redisServer: REDIS_SERVER!, redisCli: REDIS_CLI! }, cleanups);
    const shards = await topicPerShard(cluster);
    expect(new Set(shards.map(({ port }) => port)).size).toBe(3);
    const topics = shards.map(({ topic }) => topic);

    const here = await clusterServer(cluster);
    const there = await clusterServer(cluster);
    const onHere = await commandClient(here.url, cleanups);
    const onThere = [await commandClient(there.url, cleanups), await commandClient(there.url, cleanups)];
    for (const peer of [onHere, ...onThere]) await peer.command({ subscribe: topics });
    // One shard subscription per process on the shard that owns the channel, not per subscriber.
    await vi.waitFor(async () => {
      for (const { topic, port } of shards) {
        expect(await cluster.cli(port, 'pubsub', 'shardnumsub', `ws:${topic}`)).toBe(`ws:${topic}\n2\n`);
      }
    }, waitLong);

    for (const topic of topics) {
      here.server.publish(topic, `hello ${topic}`);
      here.server.publish(topic, Buffer.concat([ALL_BYTES, Buffer.from(topic)]));
      // The last on its topic: ordered per publisher per topic, a duplicate would come before it.
      here.server.publish(topic, `end ${topic}`);
    }
    const expected = topics.flatMap((topic) => [`text hello ${topic}`, `binary ${topic}`, `text end ${topic}`]).sort();
    for (const peer of [onHere, ...onThere]) expect(await receive(peer, expected.length)).toEqual(expected);
    // Exactly once per process, however many subscribers; never back to the publisher.
    expect(await onThere[0]!.command({})).toMatchObject({ deliveries: expected.length });
    expect(here.deliveries()).toBe(0);

    for (const topic of topics) there.server.publish(topic, `back ${topic}`);
    const back = topics.map((topic) => `text back ${topic}`).sort();
    for (const peer of [onHere, ...onThere]) expect(await receive(peer, back.length)).toEqual(back);
    expect(await onHere.command({})).toMatchObject({ deliveries: back.length });
    expect(there.deliveries()).toBe(expected.length);

    // Each message was one SPUBLISH, to the shard that owns its channel, and no plain PUBLISH.
    for (const { port } of shards) {
      expect(await calls(cluster, port, 'spublish')).toBe(4);
      expect(await calls(cluster, port, 'publish')).toBe(0);
    }

    // The last local subscriber gone, the process leaves the shard channel.
    for (const peer of onThere) peer.client.close();
    await vi.waitFor(async () => {
      for (const { topic, port } of shards) {
        expect(await cluster.cli(port, 'pubsub', 'shardnumsub', `ws:${topic}`)).toBe(`ws:${topic}\n1\n`);
      }
    }, waitLong);
  });
});
