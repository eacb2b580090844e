import { Buffer } from 'node:buffer';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CloseCode, Opcode } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { ScriptedPeer } from '@ws/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../test/start-server.js';
import type { ServerConnection, WebSocketServer } from './index.js';

/**
 * Peers that break the protocol on purpose, through @ws/testkit's scripted peer. Each case
 * asserts the exact close code the server sends (or the end of the stream), and that the
 * server forgets the connection afterwards: out of `clients`, and garbage-collected with its
 * socket (nothing the server keeps still reaches it, so its memory returns). The server has no 'error' listener unless a case
 * adds one: a hostile peer must not crash the process either way.
 */

let server: WebSocketServer;
let url: string;
const closes: { code: number; reason: string }[] = [];
/** The newest connection, held weakly so that the test itself does not keep it alive. */
let newest: { connection: WeakRef<ServerConnection>; socket: WeakRef<object> } | undefined;

// A full garbage collection on demand, for the leak checks (vitest runs without --expose-gc).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const errorCodes: string[] = [];
const peers: ScriptedPeer[] = [];

beforeAll(async () => {
  // The heartbeat as in production (the test helper turns it off), so the leak checks cover it.
  ({ server, url } = await startServer({ maxPendingPongs: 16, heartbeat: { interval: 30_000 } }));
  server.on('connection', (connection, request) => {
    newest = { connection: new WeakRef(connection), socket: new WeakRef(connection.socket) };
    if (request.url === '/with-error-listener') {
      connection.on('error', (error) => errorCodes.push((error as Error & { code: string }).code));
    }
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    connection.on('close', (code, reason) => closes.push({ code, reason }));
  });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close(50)));
});

afterAll(async () => {
  await server.close({ timeout: 200 });
});

async function connect(path = '/'): Promise<ScriptedPeer> {
  const peer = await ScriptedPeer.connect(`${url}${path}`, { timeout: 3_000 });
  peers.push(peer);
  return peer;
}

/** Whether the newest connection's socket is destroyed when it reports an error, and its close code; holds it only until then. */
function watchNewest(): { destroyedAtError: Promise<boolean>; closed: Promise<number> } {
  const connection = newest!.connection.deref()!;
  return {
    destroyedAtError: new Promise((resolve) => connection.once('error', () => resolve(connection.socket.destroyed))),
    closed: new Promise((resolve) => connection.once('close', resolve)),
  };
}

/** The server must be rid of the connection: closed, out of `clients`, nothing buffered. */
async function expectForgotten(): Promise<void> {
  for (let attempt = 0; attempt < 100 && server.clients.size > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(server.clients.size).toBe(0);
  const { connection, socket } = newest!;
  newest = undefined;
  for (let attempt = 0; attempt < 20 && (connection.deref() !== undefined || socket.deref() !== undefined); attempt++) {
    // Timers and immediates the connection armed may still hold it for a turn or two.
    await new Promise((resolve) => setTimeout(resolve, 10));
    collectGarbage();
  }
  expect(connection.deref()).toBeUndefined();
  expect(socket.deref()).toBeUndefined();
}

/** The close frame with `code`, then the server's FIN; once the peer closes its side too, the server forgets it. */
async function expectFailure(peer: ScriptedPeer, code: number): Promise<void> {
  await peer.expectClose(code);
  await peer.expectEof();
  await peer.close();
  await expectForgotten();
}

describe('a peer breaking RFC 6455 gets the exact close code', () => {
  it('an unmasked frame: 1002, reported as WS_ERR_UNMASKED_FRAME', async () => {
    const peer = await connect('/with-error-listener');
    await peer.sendFrame({ opcode: Opcode.Text, payload: 'hi', mask: false });
    await expectFailure(peer, CloseCode.ProtocolError);
    expect(errorCodes).toContain('WS_ERR_UNMASKED_FRAME');
  });

  it.each([3, 7, 0xb, 0xf])('reserved opcode %i: 1002', async (opcode) => {
    const peer = await connect();
    await peer.sendFrame({ opcode, payload: 'x' });
    await expectFailure(peer, CloseCode.ProtocolError);
  });

  it.each(['rsv1', 'rsv2', 'rsv3'] as const)('%s set without an extension: 1002', async (bit) => {
    const peer = await connect();
    await peer.sendFrame({ opcode: Opcode.Text, payload: 'x', [bit]: true });
    await expectFailure(peer, CloseCode.ProtocolError);
  });

  it('a ping of 126 bytes: 1002', async () => {
    const peer = await connect();
    await peer.sendFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(126) });
    await expectFailure(peer, CloseCode.ProtocolError);
  });

  it('a fragmented ping: 1002', async () => {
    const peer = await connect();
    await peer.sendFrame({ opcode: Opcode.Ping, payload: 'a', fin: false });
    await expectFailure(peer, CloseCode.ProtocolError);
  });

  it('a continuation without a message: 1002', async () => {
    const peer = await connect();
    await peer.sendFrame({ opcode: Opcode.Continuation, payload: 'x' });
    await expectFailure(peer, CloseCode.ProtocolError);
  });

  it('invalid UTF-8 split across fragments: 1007', async () => {
    const peer = await connect();
    // U+03BA is CE BA; the second fragment completes it with a byte that is not a continuation.
    await peer.sendFrame({ opcode: Opcode.Text, payload: Buffer.from([0x68, 0xce]), fin: false });
    await peer.sendFrame({ opcode: Opcode.Continuation, payload: Buffer.from([0x41]), fin: true });
    await expectFailure(peer, CloseCode.InvalidPayload);
  });

  it('invalid UTF-8 fails at once, before the message ends', async () => {
    const peer = await connect();
    await peer.sendFrame({ opcode: Opcode.Text, payload: 'fine', fin: false });
    await peer.sendFrame({ opcode: Opcode.Continuation, payload: Buffer.from([0xff]), fin: false });
    await expectFailure(peer, CloseCode.InvalidPayload);
  });

  it('valid UTF-8 split inside a character is accepted', async () => {
    const peer = await connect();
    await peer.sendFrame({ opcode: Opcode.Text, payload: Buffer.from([0x68, 0xce]), fin: false });
    await peer.sendFrame({ opcode: Opcode.Continuation, payload: Buffer.from([0xba]), fin: true });
    await peer.expectMessage('hκ');
  });

  it('a close frame with a 1-byte body: 1002', async () => {
    const peer = await connect();
    await peer.sendFrame({ opcode: Opcode.Close, payload: Buffer.from([0x03]) });
    await expectFailure(peer, CloseCode.ProtocolError);
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])('close code %i: 1002', async (code) => {
    const peer = await connect();
    await peer.sendClose(code);
    await expectFailure(peer, CloseCode.ProtocolError);
  });

  it.each([1000, 1001, 3000, 4999])('close code %i is echoed', async (code) => {
    const peer = await connect();
    await peer.sendClose(code, 'fine');
    await peer.expectClose(code);
    await peer.expectEof();
    await peer.close();
    await expectForgotten();
  });
});

describe('resource attacks', () => {
  it('a flood of 100,000 empty fragments: 1009 long before the end, memory released', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const peer = await connect();
    const maskKey = Buffer.from([1, 2, 3, 4]);
    const flood = Buffer.concat([
      encodeFrame({ opcode: Opcode.Binary, fin: false, maskKey }),
      ...Array.from({ length: 100_000 }, () => encodeFrame({ opcode: Opcode.Continuation, fin: false, maskKey })),
    ]);
    await peer.sendRaw(flood);
    await expectFailure(peer, CloseCode.TooBig);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('a ping flood while the peer does not read: 1008 (WS_ERR_PING_FLOOD), and the socket destroyed without waiting for an answer', async () => {
    const peer = await connect('/with-error-listener');
    // Destroyed by the time the application hears of the failure: the close frame (after 16
    // pongs, a few KiB) fits the kernel's buffers, and a peer that does not read its pongs will
    // not answer it, so the 100 ms wait of a failed connection is skipped.
    const { destroyedAtError, closed } = watchNewest();
    peer.socket.pause();
    const ping = encodeFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(125, 0x70), maskKey: Buffer.from([5, 6, 7, 8]) });
    peer.socket.write(Buffer.concat(Array.from({ length: 100_000 }, () => ping)));
    expect(await destroyedAtError).toBe(true);
    expect(errorCodes).toContain('WS_ERR_PING_FLOOD');
    expect(await closed).toBe(CloseCode.Abnormal);
    // What reached the peer before the reset: pongs, then at most the 1008 close frame.
    peer.socket.resume();
    for (let frame = await peer.nextFrame().catch(() => undefined); frame !== undefined; frame = await peer.nextFrame().catch(() => undefined)) {
      if (frame.opcode === Opcode.Pong) continue;
      expect(frame.opcode).toBe(Opcode.Close);
      expect(frame.payload.readUInt16BE(0)).toBe(CloseCode.PolicyViolation);
    }
    await peer.close();
    await expectForgotten();
  });

  it('half a frame, then silence: the heartbeat gives up (1006, heartbeat timeout)', async () => {
    const watched = await startServer({ heartbeat: { interval: 100, timeout: 100 } });
    const closed = new Promise<unknown[]>((resolve) => {
      watched.server.on('connection', (connection) => connection.on('close', (...args) => resolve(args)));
    });
    const peer = await ScriptedPeer.connect(watched.url);
    peers.push(peer);
    const frame = encodeFrame({ opcode: Opcode.Binary, payload: Buffer.alloc(100), maskKey: Buffer.from([1, 1, 1, 1]) });
    await peer.sendRaw(frame.subarray(0, 30));
    await peer.expectPing(undefined, { timeout: 1_000 });
    await peer.expectEof({ timeout: 1_000 });
    expect(await closed).toEqual([CloseCode.Abnormal, 'heartbeat timeout', false]);
    expect(watched.server.clients.size).toBe(0);
    await watched.server.close();
  });

  it('a TCP reset in the middle of a message: 1006, connection forgotten', async () => {
    const peer = await connect();
    const frame = encodeFrame({ opcode: Opcode.Binary, payload: Buffer.alloc(1024 * 1024), maskKey: Buffer.from([1, 2, 3, 4]) });
    await peer.sendRaw(frame.subarray(0, 512 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 20));
    peer.reset();
    await expectForgotten();
    expect(closes.at(-1)).toMatchObject({ code: CloseCode.Abnormal, reason: '' });
  });

  it('a peer that never closes its side after the failure is destroyed after closeTimeout', async () => {
    const strict = await startServer({ closeTimeout: 200 });
    const closed = new Promise<unknown[]>((resolve) => {
      strict.server.on('connection', (connection) => connection.on('close', (...args) => resolve(args)));
    });
    const peer = await ScriptedPeer.connect(strict.url);
    peers.push(peer);
    await peer.sendFrame({ opcode: Opcode.Text, payload: 'x', mask: false });
    await peer.expectClose(CloseCode.ProtocolError);
    await peer.expectEof();
    const started = performance.now();
    const [code, , wasClean] = await closed;
    // Destroyed after the failure's short wait, not the 5 s close timeout (a generous bound: it
    // only has to tell the two apart on a busy machine).
    expect(performance.now() - started).toBeLessThan(4_000);
    expect([code, wasClean]).toEqual([CloseCode.Abnormal, false]);
    expect(strict.server.clients.size).toBe(0);
    await strict.server.close();
  });

  it('garbage instead of frames: 1002, without an error listener', async () => {
    const peer = await connect();
    await peer.sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await expectFailure(peer, CloseCode.ProtocolError);
  });
});
