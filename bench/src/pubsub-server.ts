/**
 * A topic server for the pubsub section of the benchmark, one implementation per process:
 *   node dist/pubsub-server.js ours|ws REDIS_URL|-
 * `ours`: @ws/server with topics, and with a RedisAdapter when a Redis URL is given.
 * `ws`: what `ws` users write: a `Map` of topic to its set of sockets, one Redis subscription per
 * topic per process (node-redis), a publish goes to Redis only and each process sends what Redis
 * delivers to its sockets in a loop of `send`. Without Redis, `ws` publishes locally by the loop.
 * A connection subscribes to the topics of its URL, `/?topics=a,b`. No heartbeat in either.
 * Prints `{"port":N}` once listening (and Redis is reachable), then answers lines on stdin:
 *   `memory`: rss and heapUsed after a full GC, the connections and subscriptions;
 *   `publish TOPIC SIZE COUNT INTERVAL`: COUNT binary messages of SIZE bytes, one every
 *       INTERVAL ms (0: back to back, a turn apart), each starting with its send time (float64
 *       ms, performance.timeOrigin + now()); answers with the time of the first;
 *   `local TOPIC SIZE REPEATS`: times `publish` to the topic and a broadcast to every connection
 *       (ours: server.broadcast; ws: a loop of send), each once its bytes are flushed.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { WebSocket } from 'ws';

const [implementation, redisArgument] = process.argv.slice(2);
const redisUrl = redisArgument === '-' ? undefined : redisArgument;

interface Running {
  readonly port: number;
  readonly connections: () => number;
  readonly subscriptions: () => number;
  readonly publish: (topic: string, data: Buffer) => void;
  readonly broadcast: (data: Buffer) => void;
  readonly buffered: () => number;
}

function topicsOf(url: string | undefined): string[] {
  const topics = new URL(url ?? '/', 'http://localhost').searchParams.get('topics');
  return topics === null || topics === '' ? [] : topics.split(',');
}

async function startOurs(): Promise<Running> {
  const { WebSocketServer } = await import('@ws/server');
  const { RedisAdapter } = await import('@ws/redis');
  const adapter = redisUrl === undefined ? undefined : new RedisAdapter({ url: redisUrl });
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', heartbeat: false, adapter });
  let subscriptions = 0;
  server.on('connection', (connection, request) => {
    for (const topic of topicsOf(request.url)) connection.subscribe(topic);
    subscriptions += connection.topics.size;
    connection.on('close', () => (subscriptions -= topicsOf(request.url).length));
  });
  await Promise.all([new Promise<void>((resolve) => server.once('listening', () => resolve())), adapter?.whenReady()]);
  return {
    port: (server.address() as { port: number }).port,
    connections: () => server.clients.size,
    subscriptions: () => subscriptions,
    publish: (topic, data) => server.publish(topic, data, { binary: true }),
    broadcast: (data) => server.broadcast(data, { binary: true }),
    buffered: () => {
      let total = 0;
      for (const connection of server.clients) total += connection.bufferedAmount;
      return total;
    },
  };
}

async function startWs(): Promise<Running> {
  const { WebSocketServer } = await import('ws');
  const { createClient } = await import('@redis/client');
  const publisher = redisUrl === undefined ? undefined : createClient({ url: redisUrl });
  const subscriber = publisher?.duplicate();
  await Promise.all([publisher?.connect(), subscriber?.connect()]);
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  const topics = new Map<string, Set<WebSocket>>();
  let subscriptions = 0;
  const sendAll = (sockets: Iterable<WebSocket>, data: Buffer): void => {
    for (const socket of sockets) socket.send(data, { binary: true });
  };
  server.on('connection', (socket, request) => {
    const own = topicsOf(request.url);
    for (const topic of own) {
      let sockets = topics.get(topic);
      if (sockets === undefined) {
        const created = new Set<WebSocket>();
        sockets = created;
        topics.set(topic, created);
        void subscriber?.subscribe(topic, (message: Buffer) => sendAll(created, message), true);
      }
      sockets.add(socket);
    }
    subscriptions += own.length;
    socket.on('close', () => {
      subscriptions -= own.length;
      for (const topic of own) {
        const sockets = topics.get(topic)!;
        sockets.delete(socket);
        if (sockets.size > 0) continue;
        topics.delete(topic);
        void subscriber?.unsubscribe(topic);
      }
    });
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => server.clients.size,
    subscriptions: () => subscriptions,
    publish: (topic, data) => {
      if (publisher !== undefined) void publisher.publish(topic, data);
      else sendAll(topics.get(topic) ?? [], data);
    },
    broadcast: (data) => sendAll(server.clients, data),
    buffered: () => {
      let total = 0;
      for (const client of server.clients) total += client.bufferedAmount;
      return total;
    },
  };
}

const starters: Record<string, () => Promise<Running>> = { ours: startOurs, ws: startWs };
const starter = starters[implementation ?? ''];
if (starter === undefined) throw new Error(`usage: pubsub-server.js ours|ws REDIS_URL|- (got ${implementation})`);
const running = await starter();

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

async function publishMany(topic: string, size: number, count: number, interval: number): Promise<number> {
  const first = now();
  for (let index = 0; index < count; index++) {
    const data = Buffer.alloc(size, 0x62);
    data.writeDoubleLE(now(), 0);
    running.publish(topic, data);
    await (interval > 0 ? sleep(interval) : nextTurn());
  }
  return first;
}

/** The median time of `send`, once what it wrote was flushed, over `repeats` calls after 3 warm-up ones. */
async function timeCalls(send: () => void, repeats: number): Promise<number> {
  const samples: number[] = [];
  for (let repeat = 0; repeat < repeats + 3; repeat++) {
    while (running.buffered() > 0) await nextTurn();
    globalThis.gc?.();
    await nextTurn();
    const start = process.hrtime.bigint();
    send();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.slice(3).sort((a, b) => a - b)[Math.floor(repeats / 2)]!;
}

process.stdout.write(`${JSON.stringify({ port: running.port })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...args] = line.split(' ');
  if (command === 'memory') {
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ rss, heapUsed, connections: running.connections(), subscriptions: running.subscriptions() })}\n`);
  } else if (command === 'publish') {
    const [topic, size, count, interval] = [args[0]!, ...args.slice(1).map(Number)] as [string, number, number, number];
    void publishMany(topic, size, count, interval).then((first) => process.stdout.write(`${JSON.stringify({ first })}\n`));
  } else if (command === 'local') {
    const [topic, size, repeats] = [args[0]!, Number(args[1]), Number(args[2])];
    const data = Buffer.alloc(size, 0x62);
    void (async () => {
      const publishMs = await timeCalls(() => running.publish(topic, data), repeats);
      const broadcastMs = await timeCalls(() => running.broadcast(data), repeats);
      process.stdout.write(`${JSON.stringify({ publishMs, broadcastMs })}\n`);
    })();
  }
});
process.stdin.on('end', () => process.exit(0));
