import { createDemoServer } from './create-demo-server.js';

// `pnpm --filter demo dev`: the demo on http://127.0.0.1:3000 (HOST and PORT override it).
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);

const log = (line: string): void => {
  const now = new Date();
  console.log(`${now.toTimeString().slice(0, 8)}.${String(now.getMilliseconds()).padStart(3, '0')} ${line}`);
};

const demo = await createDemoServer({ host, port, log }).catch((error: unknown) => {
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  console.error(inUse ? `${host}:${port} is in use; set PORT to use another port.` : error);
  process.exit(1);
});
log(`demo on ${demo.url} (WebSocket on ${demo.webSocketUrl}, chat on ${demo.webSocketUrl}chat)`);
const origin = demo.webSocketUrl.replace(/\/$/, '');
log(`try it from a browser console: var ws = new WebSocket("${origin}"); ws.onmessage = e => console.log(e.data);`);
log(`                         then: ws.send('hello world')`);

let shuttingDown = false;
function shutdown(signal: NodeJS.Signals): void {
  if (shuttingDown) {
    // A second Ctrl-C does not wait for slow peers.
    process.exit(1);
  }
  shuttingDown = true;
  log(`${signal}: closing every connection with 1001, then exiting`);
  demo.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
