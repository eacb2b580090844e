import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ExpectationError } from './expectation-error.js';
import { headerValue } from './http-head.js';
import { ScriptedPeer } from './scripted-peer.js';
import { ScriptedServer } from './scripted-server.js';
import { type TestServer, startTestServer } from './start-test-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A `ws` echo server mounted on a test server. */
async function wsEchoServer(): Promise<TestServer> {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => undefined);
  });
  const server = await startTestServer((request, socket, head) =>
    wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request)),
  );
  cleanups.push(() => server.close());
  return server;
}

async function scriptedServer(): Promise<ScriptedServer> {
  const server = await ScriptedServer.listen({ timeout: 1000 });
  cleanups.push(() => server.close());
  return server;
}

describe('ScriptedPeer.connect against a ws server', () => {
  it('echoes, pongs and closes with the closing handshake', async () => {
    const { url } = await wsEchoServer();
    const peer = await ScriptedPeer.connect(url);
    cleanups.push(() => peer.close());
    expect(peer.handshakeResponse?.statusCode).toBe(101);
    await peer.sendText('Hello');
    await peer.expectMessage('Hello');
    await peer.sendBinary(Uint8Array.of(1, 2, 3), { chop: 1 });
    await peer.expectMessage(Uint8Array.of(1, 2, 3));
    await peer.sendPing('are you there');
    await peer.expectPong('are you there');
    await peer.sendClose(1000, 'done');
    expect(await peer.expectClose(1000)).toMatchObject({ code: 1000, reason: 'done' });
    await peer.expectEof();
  });

  it('keeps a raw handshake response for the test to judge', async () => {
    const { url } = await wsEchoServer();
    const peer = await ScriptedPeer.connect(url, { handshake: 'raw', headers: { 'Sec-WebSocket-Version': '12' } });
    cleanups.push(() => peer.close());
    expect(peer.handshakeResponse?.statusCode).toBe(400);
    expect(headerValue(peer.handshakeResponse!.headers, 'sec-websocket-version')).toMatch(/13/);
    await peer.expectEof();
  });

  it('sees the server answer a half-close by ending too', async () => {
    const { url } = await wsEchoServer();
    const peer = await ScriptedPeer.connect(url);
    cleanups.push(() => peer.close());
    await peer.halfClose();
    await peer.expectEof();
  });

  it('is disconnected when the test server closes', async () => {
    const server = await wsEchoServer();
    const peer = await ScriptedPeer.connect(server.url);
    cleanups.push(() => peer.close());
    await server.close();
    await peer.expectEof();
  });
});

describe('ScriptedServer', () => {
  it('accepts a ws client and talks to it both ways', async () => {
    const server = await scriptedServer();
    const client = new WebSocket(`${server.url}/chat`);
    const received: string[] = [];
    client.on('message', (data) => received.push(data.toString()));
    client.on('open', () => client.send('hello from ws'));
    const peer = await server.accept();
    cleanups.push(() => peer.close());
    expect(peer.request?.target).toBe('/chat');
    const message = await peer.expectMessage('hello from ws');
    expect(message.frames[0]!.masked).toBe(true);
    await peer.sendText('hello from the script');
    await peer.sendClose(1000);
    await peer.expectClose(1000);
    await peer.expectEof();
    expect(received).toEqual(['hello from the script']);
  });

  it('answers wrongly on purpose, and ScriptedPeer.connect refuses the answer', async () => {
    const server = await scriptedServer();
    const accepted = server.accept({
      handshake: () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n',
    });
    const error = await ScriptedPeer.connect(server.url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExpectationError);
    expect((error as Error).message).toMatch(/Sec-WebSocket-Accept/);
    (await accepted).reset();
  });

  it('rejects an invalid client handshake with the right status', async () => {
    const server = await scriptedServer();
    const accepted = server.accept().catch((caught: unknown) => caught);
    const peer = await ScriptedPeer.connect(server.url, { handshake: 'raw', headers: { 'Sec-WebSocket-Key': null } });
    cleanups.push(() => peer.close());
    expect(peer.handshakeResponse?.statusCode).toBe(400);
    expect(await accepted).toBeInstanceOf(ExpectationError);
  });

  it('times out waiting for a client that does not come', async () => {
    const server = await scriptedServer();
    await expect(server.accept({ timeout: 50 })).rejects.toThrow(/No client connected/);
  });
});
