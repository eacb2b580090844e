import { createDemoServer } from './create-demo-server.js';
import { EXIT_STATUS_TEXT, runCommand } from './run-command.js';
import { makeSelfSignedCertificate } from './self-signed-certificate.js';
import { stopOnSignals } from './stop-on-signals.js';

// `pnpm --filter demo dev`: the demo on http://127.0.0.1:3000 (HOST and PORT override it).
const USAGE = `Usage: pnpm --filter demo dev

Serves the demo page on http://127.0.0.1:3000 and accepts WebSocket upgrades on the same port:
echo on every path, the chat room on /chat. Ctrl-C (or SIGTERM) closes every connection with
1001 and exits; a second Ctrl-C exits at once, with 1.

Environment:
  HOST   the address to listen on (default 127.0.0.1)
  PORT   the port (default 3000; 0 picks a free one, printed on start)
  REDIS_URL  a Redis (redis://host:port): the chat room goes through it, shared with every
         demo server on the same Redis (default: none, the room is this server's own)
  HTTPS  1: serve over HTTPS with HTTP/2 (and HTTP/1.1), with a self-signed certificate made
         at start by the openssl command; WebSockets then ride HTTP/2 (RFC 8441) in browsers
         that use it, and the connection panel shows which protocol each one rides

${EXIT_STATUS_TEXT}`;

const log = (line: string): void => {
  const now = new Date();
  console.log(`${now.toTimeString().slice(0, 8)}.${String(now.getMilliseconds()).padStart(3, '0')} ${line}`);
};

async function serve(): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 3000);
  const redisUrl = process.env.REDIS_URL || undefined;
  const tls = process.env.HTTPS === '1' ? await makeSelfSignedCertificate() : undefined;
  const demo = await createDemoServer({ host, port, log, redisUrl, ...(tls === undefined ? {} : { tls }) });
  log(`demo on ${demo.url} (WebSocket on ${demo.webSocketUrl}, chat on ${demo.webSocketUrl}chat)`);
  const origin = demo.webSocketUrl.replace(/\/$/, '');
  log(`try it from a browser console: var ws = new WebSocket("${origin}"); ws.onmessage = e => console.log(e.data);`);
  log(`                         then: ws.send('hello world')`);

  stopOnSignals(async (signal) => {
    log(`${signal}: closing every connection with 1001, then exiting`);
    await demo.close();
  });
}

const status = await runCommand({ name: 'demo dev', usage: USAGE, options: {}, run: serve });
// A server that failed to start may hold timers (the heartbeat): exit rather than wait for them.
if (status !== undefined) process.exit(status);
