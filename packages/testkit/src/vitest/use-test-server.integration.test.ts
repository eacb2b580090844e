import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ScriptedPeer, type TestServer } from '@ws/testkit';
import { useTestServer } from '@ws/testkit/vitest';

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('useTestServer', () => {
  let previous: TestServer | undefined;

  it('starts a server on a free port whose upgrades go to the handler', async () => {
    const server = await useTestServer((_request, socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    previous = server;
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const peer = await ScriptedPeer.connect(server.url, { handshake: 'raw' });
    expect(peer.handshakeResponse?.statusCode).toBe(403);
    await peer.close();
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(426);
  });

  it('has closed the previous test server', async () => {
    expect(previous).toBeDefined();
    expect(await refuses(previous!.port)).toBe(true);
  });
});
