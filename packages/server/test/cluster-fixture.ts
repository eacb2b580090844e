/**
 * A cluster for the ClusterAdapter tests, started by them with `node --import tsx`: the primary
 * runs the hub and forks two workers (IPC serialization from argv[2]), each a WebSocketServer
 * on its own free port on 127.0.0.1, and tells its parent the ports. The test's `ws` clients
 * drive a worker with JSON commands: `{ subscribe }`, `{ unsubscribe }`, `{ publish, text |
 * base64, binary }` and `{ stats }` (how many messages its adapter delivered from elsewhere),
 * each answered with `{ done }` once carried out. The parent asks the primary `{ workers: topic
 * }` (the hub's count) and sends `{ stop: true }` to end it all.
 */
import { Buffer } from 'node:buffer';
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Adapter, ClusterAdapter, WebSocketServer } from '../src/index.js';

const WORKERS = 2;

if (cluster.isPrimary) {
  const serialization = process.argv[2] === 'advanced' ? 'advanced' : 'json';
  cluster.setupPrimary({ serialization });
  const hub = ClusterAdapter.hub();
  const ports: number[] = [];
  const pids: number[] = [];
  for (let index = 0; index < WORKERS; index++) {
    const worker = cluster.fork();
    worker.on('message', (message: { port?: number }) => {
      if (typeof message.port !== 'number') return;
      ports[index] = message.port;
      pids[index] = worker.process.pid!;
      if (ports.filter((port) => port !== undefined).length === WORKERS) process.send!({ ports, pids });
    });
  }
  process.on('message', (message: { workers?: string; stop?: boolean }) => {
    if (message.workers !== undefined) process.send!({ workers: hub.workers(message.workers) });
    if (message.stop === true) {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
      process.exit(0);
    }
  });
  // The parent (the test) went away: take the workers down too.
  process.on('disconnect', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  let deliveries = 0;
  const cluster = new ClusterAdapter();
  // Counts the messages this process receives from the others, once per message, not per subscriber.
  const counting: Adapter = {
    attach: (deliver) =>
      cluster.attach((topic, payload, flags) => {
        deliveries++;
        deliver(topic, payload, flags);
      }),
    subscribe: (topic) => cluster.subscribe(topic),
    unsubscribe: (topic) => cluster.unsubscribe(topic),
    publish: (topic, payload, flags) => cluster.publish(topic, payload, flags),
    close: () => cluster.close(),
  };
  const http = createServer();
  const server = new WebSocketServer({ server: http, adapter: counting, heartbeat: false });
  server.on('connection', (connection) => {
    connection.on('message', (data) => {
      const command = JSON.parse(data.toString()) as {
        subscribe?: string;
        unsubscribe?: string;
        publish?: string;
        text?: string;
        base64?: string;
        binary?: boolean;
        stats?: boolean;
      };
      if (command.subscribe !== undefined) connection.subscribe(command.subscribe);
      if (command.unsubscribe !== undefined) connection.unsubscribe(command.unsubscribe);
      if (command.publish !== undefined) {
        const data = command.base64 !== undefined ? Buffer.from(command.base64, 'base64') : command.text!;
        server.publish(command.publish, data, { binary: command.binary });
      }
      connection.send(JSON.stringify({ done: true, deliveries }));
    });
  });
  // Exclusive: a worker's port 0 would otherwise be one port shared through the primary.
  http.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
    process.send!({ port: (http.address() as AddressInfo).port });
  });
}
