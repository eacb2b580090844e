import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { constants, createServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Opcode } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientConnection } from './client-connection.js';
import { connect, type ConnectOptions } from './connect.js';

/**
 * How the client ends its WebSocket's HTTP/2 stream, seen by a server on Node's http2: a reset
 * with CANCEL whenever it aborts the stream (RFC 8441 §5: "RST exceptions are represented with
 * the RST_STREAM frame ... with the CANCEL error code"), END_STREAM after a closing handshake.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Opened {
  readonly connection: ClientConnection;
  /** The server's side of the WebSocket's stream. */
  readonly stream: ServerHttp2Stream;
  /** Resolves with the first bytes the client sends on the stream. */
  readonly firstBytes: Promise<Buffer>;
}

/** An h2c server that accepts one extended CONNECT with 200 and leaves the stream to the test. */
async function open(options: ConnectOptions = {}): Promise<Opened> {
  const server = createServer({ settings: { enableConnectProtocol: true } });
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (session) => sessions.add(session));
  const accepted = new Promise<ServerHttp2Stream>((resolve) => {
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') return stream.close(constants.NGHTTP2_REFUSED_STREAM);
      stream.respond({ ':status': 200 });
      resolve(stream);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const connection = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, { http2: true, ...options });
  cleanups.push(() => connection.terminate());
  const stream = await accepted;
  const firstBytes = once(stream, 'data').then(([chunk]) => chunk as Buffer);
  firstBytes.catch(() => undefined);
  return { connection, stream, firstBytes };
}

/** The error code the stream ended with, as the server saw it (0 for NO_ERROR or no reset at all). */
async function rstCodeOf(stream: ServerHttp2Stream): Promise<number | undefined> {
  if (!stream.closed) await once(stream, 'close');
  return stream.rstCode;
}

function closeFrame(code: number): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  return encodeFrame({ opcode: Opcode.Close, payload });
}

describe('the client resets a WebSocket stream it aborts with CANCEL', () => {
  it('terminate()', { timeout: 5000 }, async () => {
    const { connection, stream } = await open();
    connection.terminate('enough');
    expect(await rstCodeOf(stream)).toBe(constants.NGHTTP2_CANCEL);
    expect(await connection.closed).toEqual({ code: 1006, reason: 'enough', wasClean: false });
  });

  it('a protocol error the server does not answer (fail fast)', { timeout: 5000 }, async () => {
    const { connection, stream, firstBytes } = await open();
    // A masked frame from a server: RFC 6455 §5.1 makes the client fail the connection.
    stream.write(encodeFrame({ opcode: Opcode.Text, payload: 'masked', maskKey: Buffer.from([1, 2, 3, 4]) }));
    expect((await firstBytes)[0]).toBe(0x80 | Opcode.Close);
    expect(await rstCodeOf(stream)).toBe(constants.NGHTTP2_CANCEL);
    expect((await connection.closed).wasClean).toBe(false);
  });

  it('a close frame the server never answers (close timeout)', { timeout: 5000 }, async () => {
    const { connection, stream, firstBytes } = await open({ closeTimeout: 150 });
    void connection.close(1000);
    expect((await firstBytes)[0]).toBe(0x80 | Opcode.Close);
    expect(await rstCodeOf(stream)).toBe(constants.NGHTTP2_CANCEL);
    expect((await connection.closed).wasClean).toBe(false);
  });
});

describe('the client ends a cleanly closed WebSocket without an error code', () => {
  it('closing handshake, then END_STREAM both ways: NO_ERROR', { timeout: 5000 }, async () => {
    const { connection, stream, firstBytes } = await open();
    void connection.close(1000);
    expect((await firstBytes)[0]).toBe(0x80 | Opcode.Close);
    stream.end(closeFrame(1000));
    expect(await rstCodeOf(stream)).toBe(constants.NGHTTP2_NO_ERROR);
    expect(await connection.closed).toEqual({ code: 1000, reason: '', wasClean: true });
  });
});
