/**
 * The client benchmark's load: WebSocket clients of one library echoing through a server, each
 * keeping a window of binary messages in flight, counting the echoes that come back. Runs in
 * its own process, pinned to its own core, so what it measures is the client library.
 *
 *   node dist/client-load.js '{"port":N,"client":"ours","connections":100,"size":16,"window":32,"seconds":2}'
 *
 * `client` is `ours` (@ws/client's `connect`) or `ws` (the `ws` package's WebSocket, with its
 * native `bufferutil`). Prints one JSON line: messages, seconds, messagesPerSecond, cpuShare.
 */
import { Buffer } from 'node:buffer';

interface Settings {
  readonly port: number;
  readonly client: 'ours' | 'ws';
  readonly connections: number;
  readonly size: number;
  readonly window: number;
  readonly seconds: number;
}

/** What the load needs of a client connection, whichever library made it. */
interface EchoClient {
  send(data: Buffer): void;
  onMessage(listener: () => void): void;
  close(): void;
}

const settings = JSON.parse(process.argv[2]!) as Settings;
const url = `ws://127.0.0.1:${settings.port}/`;

async function openOurs(): Promise<EchoClient> {
  const { connect } = await import('@ws/client');
  const connection = await connect(url, { maxMessageSize: 64 * 1024 * 1024 });
  return {
    send: (data) => connection.send(data),
    onMessage: (listener) => connection.on('message', listener),
    close: () => connection.terminate(),
  };
}

async function openWs(): Promise<EchoClient> {
  const { default: WebSocket } = await import('ws');
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    send: (data) => socket.send(data, { binary: true }),
    onMessage: (listener) => socket.on('message', listener),
    close: () => socket.terminate(),
  };
}

const open = settings.client === 'ours' ? openOurs : openWs;
const clients: EchoClient[] = [];
for (let start = 0; start < settings.connections; start += 50) {
  const batch = Array.from({ length: Math.min(50, settings.connections - start) }, () => open());
  clients.push(...(await Promise.all(batch)));
}

const payload = Buffer.alloc(settings.size, 0x61);
let messages = 0;
let running = true;
for (const client of clients) {
  client.onMessage(() => {
    messages++;
    if (running) client.send(payload);
  });
}
const cpuBefore = process.cpuUsage();
const start = process.hrtime.bigint();
for (const client of clients) for (let index = 0; index < settings.window; index++) client.send(payload);
await new Promise((resolve) => setTimeout(resolve, settings.seconds * 1000));
running = false;
const counted = messages;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
for (const client of clients) client.close();
process.stdout.write(
  `${JSON.stringify({ messages: counted, seconds, messagesPerSecond: counted / seconds, cpuShare: (cpu.user + cpu.system) / 1e6 / seconds })}\n`,
);
process.exit(0);
