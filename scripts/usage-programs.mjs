/**
 * The programs that use the packages as a user would, once installed (from packed tarballs by
 * check-installed.mjs, by name from a local registry by check-registry.mjs): a server, the
 * client's `connect()` and WHATWG `WebSocket`, and the testkit's scripted peer, from ESM; a round
 * trip from CommonJS. Each caller adds its own imports and checks, and the line it prints.
 */

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
