/**
 * The load generator of the http2 section: one HTTP/2 session (h2c, prior knowledge) carrying
 * every WebSocket as an extended CONNECT stream (RFC 8441), each writing pre-masked frames and
 * counting echoed bytes, as `load-generator.ts` does over TCP. Node's http2 client, no WebSocket
 * library: the frames are raw bytes on the streams. Runs in its own process, pinned to its core.
 *
 *   node dist/http2-load-generator.js '{"port":N,"connections":1000,"size":16,"window":16,"seconds":2}'
 *   node dist/http2-load-generator.js '{"port":N,"connections":1000,"idle":true}'
 *
 * Prints one JSON line: messages, seconds, messagesPerSecond, cpuShare (idle: opened, then
 * closed once a line arrives on stdin).
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2';
import { createInterface } from 'node:readline';
import { EchoWindow } from './echo-window.js';
import { loadSettingsFromArguments } from './load-settings.js';

const settings = loadSettingsFromArguments();

/** This side's receive windows, so that the load never holds the server's replies back. */
const RECEIVE_WINDOW = 16 * 1024 * 1024;

async function openSession(): Promise<ClientHttp2Session> {
  const session = connect(`http://127.0.0.1:${settings.port}`, { settings: { enablePush: false, initialWindowSize: RECEIVE_WINDOW } });
  session.on('error', () => undefined);
  await new Promise((resolve, reject) => session.once('remoteSettings', resolve).once('error', reject));
  session.setLocalWindowSize(RECEIVE_WINDOW);
  if (session.remoteSettings.enableConnectProtocol !== true) throw new Error('the server does not allow extended CONNECT');
  return session;
}

function openStream(session: ClientHttp2Session): Promise<ClientHttp2Stream> {
  const stream = session.request(
    { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/', ':authority': `127.0.0.1:${settings.port}`, 'sec-websocket-version': '13' },
    { endStream: false },
  );
  stream.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    stream.once('response', (headers) => (headers[':status'] === 200 ? resolve(stream) : reject(new Error(`status ${headers[':status']}`))));
    stream.once('close', () => reject(new Error('stream closed before its response')));
  });
}

async function open(count: number): Promise<{ session: ClientHttp2Session; streams: ClientHttp2Stream[] }> {
  const session = await openSession();
  const streams: ClientHttp2Stream[] = [];
  // In batches, as the TCP generator opens its connections.
  for (let start = 0; start < count; start += 200) {
    streams.push(...(await Promise.all(Array.from({ length: Math.min(200, count - start) }, () => openStream(session)))));
  }
  return { session, streams };
}

async function echoLoad(): Promise<void> {
  const echoes = new EchoWindow(settings.size!, settings.window!);
  const { session, streams } = await open(settings.connections);
  let messages = 0;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const stream of streams) echoes.drive(stream, (replies) => (messages += replies));
  await new Promise((resolve) => setTimeout(resolve, settings.seconds! * 1000));
  echoes.running = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const counted = messages;
  session.destroy();
  process.stdout.write(`${JSON.stringify({ messages: counted, seconds, messagesPerSecond: counted / seconds, cpuShare: (cpu.user + cpu.system) / 1e6 / seconds })}\n`);
}

async function idleLoad(): Promise<void> {
  const { session, streams } = await open(settings.connections);
  process.stdout.write(`${JSON.stringify({ opened: streams.length })}\n`);
  // Wait until told to close, so the server's memory can be read while all are open.
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
  session.destroy();
  process.stdout.write(`${JSON.stringify({ closed: true })}\n`);
}

await (settings.idle ? idleLoad() : echoLoad());
process.exit(0);
