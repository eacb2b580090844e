#!/usr/bin/env node
/**
 * Installs the four published packages the way a user gets them (`pnpm pack`, then `npm install`
 * of the tarballs into an empty project, with no workspace around) and uses them from ESM and
 * from CommonJS: a server, the client's three APIs, core's helpers and the testkit's scripted
 * peer and bin. publint and attw check the package manifests and types; this checks that what
 * they describe runs. Needs `pnpm build` first (`pnpm check:installed` does both).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['core', 'server', 'client', 'testkit'];
const work = mkdtempSync(join(tmpdir(), 'ws-installed-'));
const run = (command, args, cwd) => execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 }).toString();

const ESM = `
import assert from 'node:assert/strict';
import { WebSocketServer } from '@ws/server';
import { connect, WebSocket } from '@ws/client';
import { ScriptedPeer } from '@ws/testkit';
import { computeAcceptKey } from '@ws/core';
import { Connection } from '@ws/core/node';

assert.equal(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
assert.equal(typeof Connection, 'function');
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
console.log('ESM: ok');
`;

const CJS = `
const assert = require('node:assert/strict');
const { WebSocketServer } = require('@ws/server');
const { connect } = require('@ws/client');
const { encodeFrame } = require('@ws/core/wire');
(async () => {
  assert.equal(encodeFrame({ opcode: 1, payload: 'hi' }).toString('hex'), '81026869');
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
  console.log('CommonJS: ok');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

try {
  for (const name of packages) run('pnpm', ['pack', '--pack-destination', work], join(root, 'packages', name));
  const tarballs = readdirSync(work).filter((file) => file.endsWith('.tgz')).map((file) => join(work, file));
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // The packages have no dependencies outside these tarballs: nothing is fetched.
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], project);
  writeFileSync(join(project, 'esm.mjs'), ESM);
  writeFileSync(join(project, 'cjs.cjs'), CJS);
  process.stdout.write(run(process.execPath, ['esm.mjs'], project));
  process.stdout.write(run(process.execPath, ['cjs.cjs'], project));
  const usage = run(join(project, 'node_modules', '.bin', 'ws-testkit'), ['--help'], project);
  if (!usage.includes('ws-testkit server')) throw new Error(`ws-testkit --help printed:\n${usage}`);
  console.log('ws-testkit bin: ok');
} finally {
  rmSync(work, { recursive: true, force: true });
}
