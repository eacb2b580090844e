import { once } from 'node:events';
import { constants, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { encodeFrame } from '@ws/core/wire';
import { afterEach, describe, expect, it } from 'vitest';
import { closePayload, Opcode, openRawWebSocket, openSession, type RawWebSocket } from '../test/raw-http2.js';
import { type ServerConnection, WebSocketServer, type WebSocketServerOptions } from './index.js';

/**
 * How the server ends a WebSocket's HTTP/2 stream, seen by a peer on Node's http2 client: a reset
 * with CANCEL whenever it aborts the stream (RFC 8441 §5: "RST exceptions are represented with
 * the RST_STREAM frame ... with the CANCEL error code"), END_STREAM after a closing handshake.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(options: Omit<WebSocketServerOptions, 'server' | 'port' | 'noServer'> = {}): Promise<{ socket: RawWebSocket; connection: ServerConnection }> {
  const http2 = createServer();
  const sessions = new Set<{ destroy(): void }>();
  http2.on('session', (session) => sessions.add(session));
  const server = new WebSocketServer({ heartbeat: false, ...options, server: http2 });
  const accepted = once(server, 'connection') as Promise<[ServerConnection]>;
  http2.listen(0, '127.0.0.1');
  await once(http2, 'listening');
  cleanups.push(async () => {
    await server.close({ timeout: 200 });
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => http2.close(resolve));
  });
  const client = await openSession(`http://127.0.0.1:${(http2.address() as AddressInfo).port}`);
  cleanups.push(() => client.destroy());
  const socket = await openRawWebSocket(client);
  const [connection] = await accepted;
  return { socket, connection };
}

/** The error code the stream ended with, as the peer saw it (0 for NO_ERROR or no reset at all). */
async function rstCodeOf(socket: RawWebSocket): Promise<number | undefined> {
  if (!socket.stream.closed) await once(socket.stream, 'close');
  return socket.stream.rstCode;
}

describe('the server resets a WebSocket stream it aborts with CANCEL', () => {
  it('terminate()', { timeout: 5000 }, async () => {
    const { socket, connection } = await open();
    connection.terminate('enough');
    expect(await rstCodeOf(socket)).toBe(constants.NGHTTP2_CANCEL);
    expect(await connection.closed).toEqual({ code: 1006, reason: 'enough', wasClean: false });
  });

  it('a protocol error the peer does not answer (fail fast)', { timeout: 5000 }, async () => {
    const { socket, connection } = await open();
    // An unmasked frame from a client: RFC 6455 §5.1 makes the server fail the connection.
    socket.stream.write(encodeFrame({ opcode: Opcode.Text, payload: 'unmasked' }));
    const [close] = await socket.frames(1);
    expect([close?.opcode, close?.payload.readUInt16BE(0)]).toEqual([Opcode.Close, 1002]);
    expect(await rstCodeOf(socket)).toBe(constants.NGHTTP2_CANCEL);
    expect((await connection.closed).wasClean).toBe(false);
  });

  it('a close frame the peer never answers (close timeout)', { timeout: 5000 }, async () => {
    const { socket, connection } = await open({ closeTimeout: 150 });
    void connection.close(1000, 'bye');
    const [close] = await socket.frames(1);
    expect(close?.opcode).toBe(Opcode.Close);
    expect(await rstCodeOf(socket)).toBe(constants.NGHTTP2_CANCEL);
    expect((await connection.closed).wasClean).toBe(false);
  });
});

describe('the server ends a cleanly closed WebSocket without an error code', () => {
  it('closing handshake, then END_STREAM both ways: NO_ERROR', { timeout: 5000 }, async () => {
    const { socket, connection } = await open();
    void connection.close(1000, 'bye');
    const [close] = await socket.frames(1);
    socket.send(Opcode.Close, close?.payload);
    socket.stream.end();
    expect(await rstCodeOf(socket)).toBe(constants.NGHTTP2_NO_ERROR);
    expect(await connection.closed).toEqual({ code: 1000, reason: 'bye', wasClean: true });
  });

  it('closing handshake, but the peer never ends its stream: reset with NO_ERROR at the close timeout', { timeout: 5000 }, async () => {
    const { socket, connection } = await open({ closeTimeout: 150 });
    socket.send(Opcode.Close, closePayload(1000, 'done'));
    const [echo] = await socket.frames(1);
    expect(echo?.opcode).toBe(Opcode.Close);
    expect(await rstCodeOf(socket)).toBe(constants.NGHTTP2_NO_ERROR);
    expect(await connection.closed).toEqual({ code: 1000, reason: 'done', wasClean: true });
  });
});
