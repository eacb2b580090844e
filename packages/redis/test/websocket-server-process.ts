/**
 * A second server process for the RedisAdapter tests, started with `node --import tsx`: a
 * WebSocketServer on a free port of 127.0.0.1 with a RedisAdapter on the URL in argv[2]. Once
 * Redis is reachable it tells its parent the port over IPC. The test's `ws` clients drive it
 * with JSON commands: `{ subscribe }`, `{ publish, text | base64, binary }`, and `{}`; each is
 * answered with `{ done, deliveries }`, the number of messages its adapter delivered from
 * other processes. It exits when its parent goes away.
 */
import { Buffer } from 'node:buffer';
import type { AddressInfo } from 'node:net';
import { type Adapter, WebSocketServer } from '@ws/server';
import { RedisAdapter } from '../src/index.js';

const redis = new RedisAdapter({ url: process.argv[2]!, reconnect: { initialDelay: 20, maxDelay: 200 } });
let deliveries = 0;
const counting: Adapter = {
  attach: (deliver) =>
    redis.attach((topic, payload, flags) => {
      deliveries++;
      deliver(topic, payload, flags);
    }),
  subscribe: (topic) => redis.subscribe(topic),
  unsubscribe: (topic) => redis.unsubscribe(topic),
  publish: (topic, payload, flags) => redis.publish(topic, payload, flags),
  close: () => redis.close(),
};
const server = new WebSocketServer({ port: 0, host: '127.0.0.1', adapter: counting, heartbeat: false });
server.on('connection', (connection) => {
  connection.on('message', (data) => {
    const command = JSON.parse(data.toString()) as { subscribe?: string; publish?: string; text?: string; base64?: string; binary?: boolean };
    if (command.subscribe !== undefined) connection.subscribe(command.subscribe);
    if (command.publish !== undefined) {
      server.publish(command.publish, command.base64 !== undefined ? Buffer.from(command.base64, 'base64') : command.text!, {
        binary: command.binary,
      });
    }
    connection.send(JSON.stringify({ done: true, deliveries }));
  });
});
server.once('listening', () => {
  void redis.whenReady().then(() => process.send!({ port: (server.address() as AddressInfo).port }));
});
process.on('disconnect', () => {
  void server.close({ timeout: 200 }).finally(() => process.exit(0));
});
