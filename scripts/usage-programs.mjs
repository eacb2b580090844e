/**
 * The programs that use the packages as a user would, once installed (from packed tarballs by
 * check-installed.mjs, by name from a local registry by check-registry.mjs): a server, the
 * client's `connect()` and WHATWG `WebSocket`, and the testkit's scripted peer, from ESM; a round
 * trip from CommonJS. Each caller adds its own imports and checks, and the line it prints.
 * Then the Redis adapter, from ESM and CommonJS, and TypeScript programs that use every package,
 * type-checked under `tsc --strict`; `usePackages()` runs them all in an installed project.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisServer } from './redis-server.mjs';

/** An ES module: `imports` and `checks` (source lines) come before the shared round trips. */
export function esmProgram({ imports = '', checks = '', done }) {
  return `
import assert from 'node:assert/strict';
import { WebSocketServer } from '@ws/server';
import { connect, WebSocket } from '@ws/client';
import { ScriptedPeer } from '@ws/testkit';
${imports}
${checks}
const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
server.on('connection', (connection) => connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary })));
const url = 'ws://127.0.0.1:' + server.address().port;

const connection = await connect(url);
connection.send('over connect()');
for await (const message of connection) {
  assert.equal(String(message), 'over connect()');
  break;
}
await connection.close();

const socket = new WebSocket(url);
await new Promise((resolve) => (socket.onopen = resolve));
socket.send('over WebSocket');
assert.equal(await new Promise((resolve) => (socket.onmessage = (event) => resolve(event.data))), 'over WebSocket');
socket.close();

const peer = await ScriptedPeer.connect(url);
await peer.sendFrame({ opcode: 1, payload: 'unmasked', mask: false });
await peer.expectClose(1002);
await peer.close();
await server.close();
console.log(${JSON.stringify(done)});
`;
}

/** A CommonJS script: `requires` and `checks` (source lines) come before the shared round trip. */
export function cjsProgram({ requires = '', checks = '', done }) {
  return `
const assert = require('node:assert/strict');
const { WebSocketServer } = require('@ws/server');
const { connect } = require('@ws/client');
${requires}
(async () => {
  ${checks}
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (connection) => connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary })));
  const connection = await connect('ws://127.0.0.1:' + server.address().port);
  connection.send(Buffer.from([1, 2, 3]));
  for await (const message of connection) {
    assert.deepEqual([...message], [1, 2, 3]);
    break;
  }
  await connection.close();
  await server.close();
  console.log(${JSON.stringify(done)});
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;
}

/** Shared by the Redis programs: a port nothing listens on, a wait, a client's next message. */
const REDIS_PROGRAM_HELPERS = `
const freePort = () =>
  new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
const until = async (condition) => {
  for (let tries = 0; !condition(); tries++) {
    if (tries === 200) throw new Error('timed out waiting for ' + condition);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
/** A server on a free port whose connections all subscribe to 'news'. */
const start = async (adapter) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', adapter });
  await once(server, 'listening');
  server.on('connection', (connection) => connection.subscribe('news'));
  return { server, url: 'ws://127.0.0.1:' + server.address().port };
};
/** A client on the server, once the server counts it as a subscriber of 'news'. */
const subscriber = async ({ server, url }) => {
  const before = server.subscribers('news');
  const connection = await connect(url);
  await until(() => server.subscribers('news') > before);
  return { connection, messages: connection[Symbol.asyncIterator]() };
};
`;

/**
 * @ws/redis from ESM. With no Redis where it points, a server with the adapter still delivers
 * its topics locally, the adapter drops and counts what it could not send, and closing the
 * server closes it. With REDIS_URL (a redis-server the check started), two servers share a topic
 * through Redis.
 */
export const REDIS_ESM = `
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { WebSocketServer } from '@ws/server';
import { connect } from '@ws/client';
import { DEFAULT_PREFIX, RedisAdapter } from '@ws/redis';
${REDIS_PROGRAM_HELPERS}
assert.equal(DEFAULT_PREFIX, 'ws:');
assert.throws(() => new RedisAdapter({}), { name: 'TypeError', message: 'Give exactly one of the "url", "client" or "cluster" options' });

const away = new RedisAdapter({ url: 'redis://127.0.0.1:' + (await freePort()), reconnect: { initialDelay: 20, maxDelay: 100 } });
const errors = [];
away.on('error', (error) => errors.push(error));
const alone = await start(away);
const local = await subscriber(alone);
assert.equal(alone.server.publish('news', 'local only').sent, 1);
assert.equal(String((await local.messages.next()).value), 'local only');
await until(() => errors.length > 0);
assert.equal(away.isReady, false);
assert.equal(away.droppedPublishes, 1);
await local.connection.close();
await alone.server.close();
console.log('ESM @ws/redis without Redis: ok');

if (process.env.REDIS_URL) {
  const [first, second] = [new RedisAdapter({ url: process.env.REDIS_URL }), new RedisAdapter({ url: process.env.REDIS_URL })];
  const [a, b] = [await start(first), await start(second)];
  await Promise.all([first.whenReady(), second.whenReady()]);
  const onB = await subscriber(b);
  // b's SUBSCRIBE may still be on its way to Redis: a publishes until the client on b hears it.
  let heard;
  onB.messages.next().then((result) => (heard = result));
  for (let tries = 0; heard === undefined; tries++) {
    if (tries === 200) throw new Error('a publish on one server never reached the other through Redis');
    a.server.publish('news', 'through Redis');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.equal(String(heard.value), 'through Redis');
  await onB.connection.close();
  await Promise.all([a.server.close(), b.server.close()]);
  console.log('ESM @ws/redis through redis-server: ok');
}
`;

/** @ws/redis from CommonJS: an adapter on a server, ready when REDIS_URL names a Redis, closed with the server. */
export const REDIS_CJS = `
const assert = require('node:assert/strict');
const { EventEmitter } = require('node:events');
const { WebSocketServer } = require('@ws/server');
const { RedisAdapter } = require('@ws/redis');
(async () => {
  const adapter = new RedisAdapter({ url: process.env.REDIS_URL || 'redis://127.0.0.1:1', reconnect: { initialDelay: 20, maxDelay: 100 } });
  adapter.on('error', () => undefined);
  assert.ok(adapter instanceof EventEmitter);
  const server = new WebSocketServer({ noServer: true, adapter });
  if (process.env.REDIS_URL) await adapter.whenReady();
  assert.equal(adapter.isReady, Boolean(process.env.REDIS_URL));
  await server.close();
  console.log(process.env.REDIS_URL ? 'CommonJS @ws/redis through redis-server: ok' : 'CommonJS @ws/redis without Redis: ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** Type-checked only: the types a TypeScript user gets, from both module systems. */
const TYPESCRIPT_ESM = `
import { WebSocketServer, type ServerConnection } from '@ws/server';
import { connect, WebSocket, type ClientConnection } from '@ws/client';
import { ScriptedPeer, hex } from '@ws/testkit';
import { RedisAdapter, type RedisAdapterOptions } from '@ws/redis';

const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
server.on('connection', (connection: ServerConnection) => {
  connection.on('message', (data: Buffer, isBinary: boolean) => connection.send(data, { binary: isBinary }));
});
export async function roundTrip(url: string): Promise<string> {
  const connection: ClientConnection = await connect(url);
  connection.send('hello');
  for await (const message of connection) return String(message);
  return '';
}
export const socket = new WebSocket('ws://127.0.0.1:1');
export const frame: Buffer = hex\`81 00\`;
export const connectPeer: (url: string) => Promise<ScriptedPeer> = (url) => ScriptedPeer.connect(url);

const options: RedisAdapterOptions = { url: 'redis://127.0.0.1:6379', prefix: 'chat:', reconnect: { initialDelay: 100, maxDelay: 2_000 } };
export const adapter = new RedisAdapter(options);
adapter.on('error', (error: Error) => console.warn(error.message));
export const shared = new WebSocketServer({ port: 0, adapter });
shared.on('connection', (connection: ServerConnection) => connection.subscribe('news'));
export const ready: Promise<void> = adapter.whenReady();
export const dropped: number = adapter.droppedPublishes;
// @ts-expect-error: exactly one of url, client and cluster
export const both = new RedisAdapter({ url: 'redis://127.0.0.1:6379', cluster: { rootNodes: [] } });
`;

const TYPESCRIPT_CJS = `
import { WebSocketServer } from '@ws/server';
import { connect } from '@ws/client';
import { hex } from '@ws/testkit';
import { RedisAdapter } from '@ws/redis';

export const server = new WebSocketServer({ noServer: true, adapter: new RedisAdapter({ cluster: { rootNodes: [{ url: 'redis://127.0.0.1:7000' }] } }) });
export const opening: ReturnType<typeof connect> = connect('ws://127.0.0.1:1');
opening.catch(() => undefined);
export const bytes: Buffer = hex\`88 00\`;
`;

/** A folder of `project` with the TypeScript programs and a strict tsconfig for `module` resolution. */
function typescriptProject(project, module, typesRoot) {
  const directory = join(project, `ts-${module}`);
  mkdirSync(directory);
  writeFileSync(join(directory, 'esm.mts'), TYPESCRIPT_ESM);
  writeFileSync(join(directory, 'cjs.cts'), TYPESCRIPT_CJS);
  writeFileSync(
    join(directory, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module,
        moduleResolution: module,
        target: 'ES2022',
        noEmit: true,
        // The repository's @types/node: the empty project installs only the packages under test.
        typeRoots: [typesRoot],
        types: ['node'],
      },
      include: ['*.mts', '*.cts'],
    }),
  );
  return directory;
}

/**
 * In `project`, where the five packages are installed: runs `esm` and `cjs` (the caller's
 * programs), the Redis programs (against a redis-server of their own when there is one) and
 * `tsc --strict` under node16 and nodenext resolution, printing a line for each. `run(command,
 * args, { cwd, env })` returns (or resolves with) the command's output and throws when it fails;
 * `root` is the repository, for its TypeScript and @types/node.
 */
export async function usePackages({ project, root, run, esm, cjs, label }) {
  writeFileSync(join(project, 'esm.mjs'), esm);
  writeFileSync(join(project, 'cjs.cjs'), cjs);
  writeFileSync(join(project, 'redis-esm.mjs'), REDIS_ESM);
  writeFileSync(join(project, 'redis-cjs.cjs'), REDIS_CJS);
  process.stdout.write(await run(process.execPath, ['esm.mjs'], { cwd: project }));
  process.stdout.write(await run(process.execPath, ['cjs.cjs'], { cwd: project }));
  const redis = await startRedisServer();
  try {
    const env = redis === undefined ? {} : { REDIS_URL: redis.url };
    process.stdout.write(await run(process.execPath, ['redis-esm.mjs'], { cwd: project, env }));
    process.stdout.write(await run(process.execPath, ['redis-cjs.cjs'], { cwd: project, env }));
  } finally {
    await redis?.stop();
  }
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const module of ['node16', 'nodenext']) {
    await run(process.execPath, [tsc, '-p', typescriptProject(project, module, join(root, 'node_modules', '@types'))], { cwd: project });
    console.log(`TypeScript ${label} (strict, ${module}): ok`);
  }
}
