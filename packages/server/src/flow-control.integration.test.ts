import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { connect as connectTcp, type Socket } from 'node:net';
import { Opcode } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../test/start-server.js';
import type { ServerConnection, WebSocketServer } from './index.js';

/**
 * Flow control before closing, with the server's default options and a plain echo handler: a
 * peer that reads is paced by TCP and never closed; a peer that floods and does not read is
 * failed fast, without the server reading its flood in the meantime.
 */

const servers: WebSocketServer[] = [];
const sockets: { destroy(): void }[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close({ timeout: 200 })));
});

async function echoServer(): Promise<{ url: string; port: number; accepted: Promise<ServerConnection> }> {
  const { server, url, port } = await startServer();
  servers.push(server);
  const accepted = new Promise<ServerConnection>((resolve) => {
    server.on('connection', (connection) => {
      connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
      resolve(connection);
    });
  });
  return { url, port, accepted };
}

/** Sends `count` messages of `size` bytes back to back and collects the echoes and the close. */
async function pipelinedUpload(url: string, count: number, size: number) {
  const client = new WebSocket(url);
  sockets.push({ destroy: () => client.terminate() });
  await once(client, 'open');
  const echoed: number[] = [];
  let closeCode: number | undefined;
  const done = new Promise<void>((resolve) => {
    client.on('message', (data: Buffer) => {
      echoed.push(data.length);
      if (echoed.length === count) resolve();
    });
    client.on('close', (code) => {
      closeCode = code;
      resolve();
    });
  });
  for (let index = 0; index < count; index++) client.send(Buffer.alloc(size, index));
  await done;
  return { echoed, closeCode };
}

/** A raw TCP client that completed the handshake and then does whatever the test scripts. */
async function rawClient(port: number): Promise<Socket> {
  const socket = connectTcp(port, '127.0.0.1');
  sockets.push(socket);
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await once(socket, 'data');
  return socket;
}

describe('a peer that reads is never closed for its own uploads', () => {
  it('echoes 4 messages of 8 MiB sent back to back', async () => {
    const { url } = await echoServer();
    const { echoed, closeCode } = await pipelinedUpload(url, 4, 8 * 1024 * 1024);
    expect({ echoed, closeCode }).toEqual({ echoed: Array(4).fill(8 * 1024 * 1024), closeCode: undefined });
  });

  it('echoes 40 messages of 1 MiB sent back to back', async () => {
    const { url } = await echoServer();
    const { echoed, closeCode } = await pipelinedUpload(url, 40, 1024 * 1024);
    expect({ echoed, closeCode }).toEqual({ echoed: Array(40).fill(1024 * 1024), closeCode: undefined });
  });


});

describe('a peer that sends and does not read', () => {
  it('is no longer read once its replies back up, and stays open with bounded output', async () => {
    const { port, accepted } = await echoServer();
    const socket = await rawClient(port);
    socket.pause();
    const connection = await accepted;
    const frame = encodeFrame({ opcode: Opcode.Binary, payload: Buffer.alloc(64 * 1024), maskKey: Buffer.from([1, 2, 3, 4]) });
    // 16 MiB, far more than the kernel buffers on both sides hold: the server must stop reading
    // (the rest waits in this client's own buffer). Waited for, not timed.
    for (let index = 0; index < 256; index++) socket.write(frame);
    while (!connection.isPaused) await new Promise((resolve) => setImmediate(resolve));
    // A pause for the rest of a turn (the input budget) ends on the next turn; this one holds.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(connection.isPaused).toBe(true);
    expect(connection.readyState).toBe(1);
    // Output bounded by outputHighWaterMark (1 MiB) plus what one read could cause.
    expect(connection.bufferedAmount).toBeLessThan(4 * 1024 * 1024);
  });

  it('fails a ping flooder fast: it stops reading at the failure and reports 1008 then closes', async () => {
    const { server, port } = await startServer({ maxPendingPongs: 16 });
    servers.push(server);
    const accepted = new Promise<ServerConnection>((resolve) => server.on('connection', resolve));
    const socket = await rawClient(port);
    socket.pause();
    const connection = await accepted;
    const net = connection.socket as Socket;
    const failed = new Promise<number>((resolve) => connection.on('error', () => resolve(net.bytesRead)));
    const closed = new Promise<[number, number]>((resolve) =>
      connection.on('close', (code) => resolve([code, net.bytesRead])),
    );
    const ping = encodeFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(125), maskKey: Buffer.from([1, 2, 3, 4]) });
    const burst = Buffer.concat(Array.from({ length: 512 }, () => ping));
    let flooding = true;
    void closed.then(() => (flooding = false));
    void (async () => {
      while (flooding && !socket.destroyed) {
        if (!socket.write(burst)) await Promise.race([once(socket, 'drain'), closed]);
      }
    })().catch(() => undefined);
    const readAtFailure = await failed;
    const [code, readAtClose] = await closed;
    expect(code).toBe(1006);
    // Once failed, the server reads nothing more of the flood (at most what was already in
    // flight in one read), instead of reading and discarding it until the close timeout.
    expect(readAtClose - readAtFailure).toBeLessThan(256 * 1024);
  });
});
