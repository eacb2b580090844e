import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { CloseCode, ConnectionClosedError } from '@ws/core';
import { ScriptedPeer } from '@ws/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../test/start-server.js';
import type { ServerConnection, ConnectionError, WebSocketServerOptions } from './index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function withServer(options: WebSocketServerOptions) {
  const started = await startServer(options);
  cleanups.push(() => started.server.close({ timeout: 200 }));
  return started;
}

/** A peer that completes the handshake and then reads nothing at all. */
async function stalledPeer(url: string): Promise<ScriptedPeer> {
  const peer = await ScriptedPeer.connect(url);
  peer.socket.pause();
  cleanups.push(() => peer.reset());
  return peer;
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('heartbeat', () => {
  it('keeps a peer that answers, and measures its round trip', async () => {
    const { server, url } = await withServer({ heartbeat: { interval: 50, timeout: 100 } });
    const connected = once(server, 'connection') as Promise<[ServerConnection]>;
    const client = new WebSocket(url);
    cleanups.push(() => client.terminate());
    const [connection] = await connected;
    await tick(400);
    expect(connection.readyState).toBe(1);
    expect(connection.latency).toBeGreaterThanOrEqual(0);
    expect(connection.latency).toBeLessThan(100);
  });

  it('destroys a peer that does not answer: 1006, heartbeat timeout, WS_ERR_HEARTBEAT_TIMEOUT', async () => {
    const { server, url } = await withServer({ heartbeat: { interval: 50, timeout: 100 } });
    const errors: ConnectionError[] = [];
    const closed = new Promise<unknown[]>((resolve) => {
      server.on('connection', (connection) => {
        connection.on('error', (error) => errors.push(error as ConnectionError));
        connection.on('close', (...args) => resolve(args));
      });
    });
    const peer = await ScriptedPeer.connect(url);
    cleanups.push(() => peer.reset());
    await peer.expectPing(undefined, { timeout: 500 });
    expect(await closed).toEqual([CloseCode.Abnormal, 'heartbeat timeout', false]);
    expect(errors.map((error) => error.code)).toEqual(['WS_ERR_HEARTBEAT_TIMEOUT']);
    expect(server.clients.size).toBe(0);
    await peer.expectEof();
  });
});

describe('backpressure policies against a peer that stopped reading', () => {
  const chunk = Buffer.alloc(256 * 1024, 0x61);

  it('drop: messages are dropped once bufferedAmount passes the limit', async () => {
    const { server, url } = await withServer({ maxBufferedAmount: 1024 * 1024, onBackpressure: 'drop' });
    const connected = once(server, 'connection') as Promise<[ServerConnection]>;
    await stalledPeer(url);
    const [connection] = await connected;
    const statuses = new Set<string>();
    for (let index = 0; index < 400 && !statuses.has('dropped'); index++) {
      statuses.add(connection.send(chunk));
      if (index % 16 === 0) await tick(1);
    }
    expect(statuses.has('dropped')).toBe(true);
    expect(connection.bufferedAmount).toBeLessThan(1024 * 1024 + 2 * chunk.length);
    expect(connection.readyState).toBe(1);
  });

  it.each([
    ['close', { onBackpressure: 'close' }],
    ['the default policy', {}],
  ] as const)('%s: the connection is closed with 1008 and WS_ERR_BACKPRESSURE_LIMIT', async (_name, policy) => {
    const { server, url } = await withServer({ maxBufferedAmount: 1024 * 1024, closeTimeout: 200, ...policy });
    const connected = once(server, 'connection') as Promise<[ServerConnection]>;
    await stalledPeer(url);
    const [connection] = await connected;
    const errors: ConnectionError[] = [];
    connection.on('error', (error) => errors.push(error as ConnectionError));
    // Not `once(connection, 'close')`: it would reject on the reported 'error'.
    const closed = new Promise<unknown[]>((resolve) => connection.on('close', (...args) => resolve(args)));
    let status = 'sent';
    for (let index = 0; index < 400 && status !== 'closed'; index++) {
      status = connection.send(chunk);
      if (index % 16 === 0) await tick(1);
    }
    expect(status).toBe('closed');
    expect(errors.map((error) => [error.code, error.closeCode])).toEqual([['WS_ERR_BACKPRESSURE_LIMIT', 1008]]);
    // The peer never reads our close frame, so the close timeout ends it.
    const [code, , wasClean] = await closed;
    expect([code, wasClean]).toEqual([CloseCode.Abnormal, false]);
  });

  it('wait: send queues past the limit and reports it', async () => {
    const { server, url } = await withServer({ maxBufferedAmount: 1024 * 1024, onBackpressure: 'wait' });
    const connected = once(server, 'connection') as Promise<[ServerConnection]>;
    const peer = await stalledPeer(url);
    const [connection] = await connected;
    const statuses = new Set<string>();
    for (let index = 0; index < 64; index++) {
      statuses.add(connection.send(chunk));
      if (index % 16 === 0) await tick(1);
    }
    // 64 × 256 KiB to a peer that reads nothing: past the 1 MiB limit, nothing is dropped or closed.
    expect([...statuses].every((status) => status === 'sent' || status === 'queued')).toBe(true);
    expect(statuses.has('queued')).toBe(true);
    expect(connection.bufferedAmount).toBeGreaterThan(1024 * 1024);
    expect(connection.readyState).toBe(1);
    peer.socket.resume();
  });

  it('wait: sendAsync resolves only once the peer reads again', async () => {
    const { server, url } = await withServer({ maxBufferedAmount: 1024 * 1024, onBackpressure: 'wait' });
    const connected = once(server, 'connection') as Promise<[ServerConnection]>;
    const peer = await stalledPeer(url);
    const [connection] = await connected;
    let pending: Promise<void> = Promise.resolve();
    let settled = true;
    for (let index = 0; index < 400 && settled; index++) {
      settled = false;
      pending = connection.sendAsync(chunk).then(() => {
        settled = true;
      });
      await Promise.race([pending, tick(20)]);
    }
    expect(settled).toBe(false);
    peer.socket.resume();
    await pending;
    expect(settled).toBe(true);
  });

  it('sendAsync rejects with ConnectionClosedError when the peer goes away meanwhile', async () => {
    const { server, url } = await withServer({});
    const connected = once(server, 'connection') as Promise<[ServerConnection]>;
    const peer = await stalledPeer(url);
    const [connection] = await connected;
    let pending: Promise<void> = Promise.resolve();
    for (let index = 0; index < 400; index++) {
      pending = connection.sendAsync(chunk);
      const settled = await Promise.race([pending.then(() => true), tick(20).then(() => false)]);
      if (!settled) break;
    }
    peer.reset();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});
