import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UnupgradedSockets } from './unupgraded-sockets.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP server whose every connection is watched, as the standalone server does before the request. */
async function watchedServer(unupgraded: UnupgradedSockets): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    accepted.push(socket);
    unupgraded.watch(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    unupgraded.destroyAll();
    for (const socket of accepted) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { server, port: (server.address() as AddressInfo).port, accepted };
}

/** A client that sends half a request head and stalls; resolves with what it read once closed. */
function stallingClient(port: number): { connected: Promise<void>; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  socket.on('error', () => undefined);
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (data: string) => (received += data));
  return {
    connected: once(socket, 'connect').then(() => void socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr')),
    answer: once(socket, 'close').then(() => received),
  };
}

describe('UnupgradedSockets', () => {
  it('drops a crowd that falls due together at most batchSize per turn, each with a 408', async () => {
    const unupgraded = new UnupgradedSockets({ timeout: 300, batchSize: 32 });
    const { port, accepted } = await watchedServer(unupgraded);
    const clients = Array.from({ length: 600 }, () => stallingClient(port));
    await Promise.all(clients.map((client) => client.connected));
    const answers = await Promise.all(clients.map((client) => client.answer));
    expect(answers.every((answer) => answer.startsWith('HTTP/1.1 408 Request Timeout\r\n'))).toBe(true);
    expect(accepted).toHaveLength(600);
    expect(accepted.every((socket) => socket.destroyed)).toBe(true);
    const { turns, mostInOneTurn } = unupgraded.sweepStatistics;
    expect(mostInOneTurn).toBe(32);
    expect(turns).toBeGreaterThanOrEqual(600 / 32);
  });

  it('leaves alone a socket whose request arrived, and drops the others no sooner than the timeout', async () => {
    const unupgraded = new UnupgradedSockets({ timeout: 200 });
    const { port, accepted } = await watchedServer(unupgraded);
    // Taken before the sockets exist, so that however slowly the machine gets them connected,
    // the 408 can only come at least the timeout after this (a lower bound, never a race).
    const started = performance.now();
    const upgraded = stallingClient(port);
    const stalled = stallingClient(port);
    await Promise.all([upgraded.connected, stalled.connected]);
    while (accepted.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    unupgraded.forget(accepted[0]!);
    expect(await stalled.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(accepted[0]!.destroyed).toBe(false);
  });
});
