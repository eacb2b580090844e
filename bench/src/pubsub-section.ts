/**
 * The pubsub section of `run.ts`: 1 KiB published to 10,000 subscribers of one topic over two
 * server processes through one Redis, `@ws/server` + `@ws/redis` beside `ws` with a Redis
 * subscription per process and a loop of `send`; deliveries per second, delivery latency, Redis
 * PUBLISH calls per publish, a local publish beside a broadcast, memory per subscription. See
 * README.md.
 */
import { existsSync } from 'node:fs';
import { createClient } from '@redis/client';
import { startRedis } from '../../packages/redis/test/redis-process.js';
import { Child } from './child.js';
import { formatNumber, median } from './measurement.js';

const IMPLEMENTATIONS = ['ours', 'ws'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

const PUBSUB_CONNECTIONS = Number(process.env.BENCH_PUBSUB_CONNECTIONS ?? 10_000);
const PUBSUB_SIZE = 1024;
/** Paced publishes, for the delivery latency: far enough apart that one is delivered before the next. */
const PUBSUB_PACED = { count: 20, interval: 50 };
/** Back-to-back publishes (a turn apart), for the rate. */
const PUBSUB_BURST = 50;
const MEMORY_TOPICS = 10;

export interface PubsubSectionOptions {
  readonly rounds: number;
  readonly log: (line: string) => void;
}


interface Delivery {
  received: number;
  last: number;
  p50: number;
  p99: number;
}

/** Asks the receiver until it has `expected` messages, or nothing more came for 2 s (at-most-once may lose some). */
async function delivered(receiver: Child, expected: number): Promise<Delivery> {
  let report = await receiver.ask<Delivery>('report');
  let stalled = 0;
  while (report.received < expected && stalled < 20) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await receiver.ask<Delivery>('report');
    stalled = next.received === report.received ? stalled + 1 : 0;
    report = next;
  }
  return report;
}

async function pubsubServers(implementation: Implementation, redisUrl: string, count: number) {
  const servers: Child[] = [];
  for (let index = 0; index < count; index++) servers.push(new Child(0, 'pubsub-server', [implementation, redisUrl], ['--max-semi-space-size=64']));
  const ports = await Promise.all(servers.map(async (server) => (await server.next<{ port: number }>()).port));
  return { servers, ports };
}

async function subscribers(ports: number[], topics: string[]): Promise<Child> {
  const receiver = new Child(1, 'pubsub-receiver', [JSON.stringify({ ports, connections: PUBSUB_CONNECTIONS, topics })]);
  await receiver.next();
  return receiver;
}

async function stopAll(receiver: Child, servers: Child[]): Promise<void> {
  receiver.process.stdin!.write('close\n');
  await receiver.exited;
  await Promise.all(servers.map((server) => server.stop()));
}

const REDIS_SERVER = process.env.REDIS_SERVER_PATH || '/usr/bin/redis-server';

/**
 * Runs the section: `undefined` (with a line logged) when there is no redis-server to run it on.
 */
export async function runPubsubSection(options: PubsubSectionOptions): Promise<{ report: unknown; lines: string[] } | undefined> {
  const { rounds: ROUNDS, log } = options;
  if (!existsSync(REDIS_SERVER)) {
    log(`Skipping the pubsub section: no redis-server at ${REDIS_SERVER} (apt-get install redis-server, or set REDIS_SERVER_PATH).`);
    return undefined;
  }
  const cleanups: (() => unknown)[] = [];
  const redis = await startRedis(REDIS_SERVER, cleanups);
  const stats = createClient({ url: redis.url });
  await stats.connect();
  const publishCalls = async (): Promise<number> => Number(/cmdstat_publish:calls=(\d+)/.exec(String(await stats.info('commandstats')))?.[1] ?? 0);
  interface PubsubSample {
    messagesPerSecond: number;
    p50: number;
    p99: number;
    lost: number;
    commandsPerPublish: number;
    publishMs: number;
    broadcastMs: number;
    rssPerSubscription: number;
    heapPerSubscription: number;
  }
  const samples: Record<Implementation, PubsubSample[]> = { ours: [], ws: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const implementation of IMPLEMENTATIONS) {
      // Two processes through Redis, the subscribers spread over both.
      const shared = await pubsubServers(implementation, redis.url, 2);
      const receiver = await subscribers(shared.ports, ['news']);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const callsBefore = await publishCalls();
      await shared.servers[0]!.ask(`publish news ${PUBSUB_SIZE} ${PUBSUB_PACED.count} ${PUBSUB_PACED.interval}`);
      const paced = await delivered(receiver, PUBSUB_PACED.count * PUBSUB_CONNECTIONS);
      receiver.process.stdin!.write('reset\n');
      const { first } = await shared.servers[0]!.ask<{ first: number }>(`publish news ${PUBSUB_SIZE} ${PUBSUB_BURST} 0`);
      const burst = await delivered(receiver, PUBSUB_BURST * PUBSUB_CONNECTIONS);
      const commands = (await publishCalls()) - callsBefore;
      await stopAll(receiver, shared.servers);

      // One process, no Redis: a publish to the topic's 10,000 subscribers beside a broadcast to the same connections.
      const local = await pubsubServers(implementation, '-', 1);
      const localReceiver = await subscribers(local.ports, ['news']);
      const { publishMs, broadcastMs } = await local.servers[0]!.ask<{ publishMs: number; broadcastMs: number }>(`local news ${PUBSUB_SIZE} 10`);
      await stopAll(localReceiver, local.servers);

      // Memory: the same connections without topics, then each subscribed to 10 (one process each, with Redis).
      const memory: { rss: number; heapUsed: number; subscriptions: number }[] = [];
      for (const topics of [[], Array.from({ length: MEMORY_TOPICS }, (_, index) => `topic-${index}`)]) {
        const alone = await pubsubServers(implementation, redis.url, 1);
        const idle = await subscribers(alone.ports, topics);
        await new Promise((resolve) => setTimeout(resolve, 500));
        memory.push(await alone.servers[0]!.ask('memory'));
        await stopAll(idle, alone.servers);
      }
      const [bare, subscribed] = memory as [(typeof memory)[0], (typeof memory)[0]];

      samples[implementation].push({
        messagesPerSecond: burst.received / ((burst.last - first) / 1000),
        p50: paced.p50,
        p99: paced.p99,
        lost: PUBSUB_PACED.count * PUBSUB_CONNECTIONS - paced.received + PUBSUB_BURST * PUBSUB_CONNECTIONS - burst.received,
        commandsPerPublish: commands / (PUBSUB_PACED.count + PUBSUB_BURST),
        publishMs,
        broadcastMs,
        rssPerSubscription: (subscribed.rss - bare.rss) / subscribed.subscriptions,
        heapPerSubscription: (subscribed.heapUsed - bare.heapUsed) / subscribed.subscriptions,
      });
    }
  }
  await stats.destroy();
  for (const cleanup of cleanups.reverse()) await cleanup();
  const rows = IMPLEMENTATIONS.map((implementation) => {
    const of = (key: keyof PubsubSample) => median(samples[implementation].map((sample) => sample[key]));
    return {
      implementation,
      messagesPerSecond: of('messagesPerSecond'),
      p50: of('p50'),
      p99: of('p99'),
      lost: of('lost'),
      commandsPerPublish: of('commandsPerPublish'),
      publishMs: of('publishMs'),
      broadcastMs: of('broadcastMs'),
      rssPerSubscription: of('rssPerSubscription'),
      heapPerSubscription: of('heapPerSubscription'),
    };
  });
  for (const row of rows) log(`pubsub ${row.implementation}: ${formatNumber(row.messagesPerSecond)} deliveries/s, p50 ${row.p50.toFixed(1)} ms`);
  const report = { connections: PUBSUB_CONNECTIONS, size: PUBSUB_SIZE, paced: PUBSUB_PACED, burst: PUBSUB_BURST, rows };
  const label = (implementation: Implementation) =>
    implementation === 'ours'
      ? '@ws/server + @ws/redis: `server.publish(topic, data)`'
      : 'ws: a Redis subscription per topic per process, a loop of `send`';
  const lines = [
    '',
    `### Pub/Sub: ${PUBSUB_SIZE} B to ${formatNumber(PUBSUB_CONNECTIONS)} subscribers of one topic over 2 server processes (core 0) through one Redis; subscribers in one process (core 1)`,
    '',
    `Rate: ${PUBSUB_BURST} publishes back to back from one process, deliveries per second until the last arrived. Latency: ${PUBSUB_PACED.count} publishes ${PUBSUB_PACED.interval} ms apart, send to receipt. Local: one process without Redis, the call only. Memory: ${formatNumber(PUBSUB_CONNECTIONS)} connections × ${MEMORY_TOPICS} topics beside the same connections without topics, after a full GC.`,
    '',
    '| | deliveries/s | latency p50 / p99 | lost | Redis PUBLISH per publish | local publish call | broadcast call | RSS / heap per subscription |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${label(row.implementation)} | ${formatNumber(row.messagesPerSecond)} | ${row.p50.toFixed(1)} / ${row.p99.toFixed(1)} ms | ${formatNumber(row.lost)} | ${row.commandsPerPublish.toFixed(2)} | ${row.publishMs.toFixed(2)} ms | ${row.broadcastMs.toFixed(2)} ms | ${formatNumber(row.rssPerSubscription)} / ${formatNumber(row.heapPerSubscription)} B |`,
    ),
  ];
  return { report, lines };
}
