import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { computeAcceptKey, ConnectionClosedError, HandshakeError, Opcode, ProtocolError } from '@ws/core';
import { ScriptedServer } from '@ws/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import type { ClientConnection } from './client-connection.js';
import { type ConnectOptions, connect } from './connect.js';
import { WebSocket } from './web-socket.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(): Promise<ScriptedServer> {
  const server = await ScriptedServer.listen({ timeout: 2000 });
  cleanups.push(() => server.close());
  return server;
}

type Answer = Parameters<ScriptedServer['accept']>[0];

/** Connects through the scripted server's handshake; resolves with both ends. */
async function connectScripted(options: ConnectOptions = {}, answer: Answer = {}) {
  const server = await listen();
  const connecting = connect(server.url, { closeTimeout: 300, ...options });
  const peer = await server.accept(answer);
  const connection = await connecting;
  cleanups.push(() => connection.terminate());
  const errors: Error[] = [];
  connection.on('error', (error) => errors.push(error));
  const closed = connection.closed;
  return { server, peer, connection, errors, closed };
}

/** The rejection of connecting to a server that answers the handshake with `response`. */
async function handshakeFailure(response: (key: string) => string, options: ConnectOptions = {}): Promise<HandshakeError> {
  const server = await listen();
  const connecting = connect(server.url, options).catch((error: unknown) => error);
  await server.accept({ handshake: (request) => response(String(request.headers['sec-websocket-key'])) });
  const error = await connecting;
  expect(error).toBeInstanceOf(HandshakeError);
  return error as HandshakeError;
}

const validHead = (key: string): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n`;

/** What a connection failed by the client looks like from both ends. */
async function expectFailed(
  setup: Awaited<ReturnType<typeof connectScripted>>,
  closeCode: number,
  errorCode: string,
): Promise<void> {
  const { peer, errors, closed } = setup;
  // RFC 6455 §7.1.7: the client sends a close frame with the status code, then waits for
  // the server to close the TCP connection; it reads nothing more, so it never sees a close
  // frame back and reports 1006.
  await peer.expectClose(closeCode);
  await peer.close();
  expect(await closed).toEqual({ code: 1006, reason: '', wasClean: false });
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(ProtocolError);
  expect(errors[0]).toMatchObject({ code: errorCode, closeCode });
}

describe('a hostile server, after the handshake', () => {
  test('a masked frame fails the connection with 1002, and its message is not delivered', async () => {
    const setup = await connectScripted();
    const messages: unknown[] = [];
    setup.connection.on('message', (data) => messages.push(String(data)));
    await setup.peer.sendFrame({ opcode: Opcode.Text, payload: 'masked', mask: true });
    await expectFailed(setup, 1002, 'WS_ERR_UNEXPECTED_MASK');
    expect(messages).toEqual([]);
  });

  test('invalid UTF-8 in a text message fails with 1007', async () => {
    const setup = await connectScripted();
    await setup.peer.sendFrame({ opcode: Opcode.Text, payload: Uint8Array.of(0xce, 0xba, 0xe1, 0xbd, 0xc0, 0x80) });
    await expectFailed(setup, 1007, 'WS_ERR_INVALID_UTF8');
  });

  test('invalid UTF-8 fails in the first fragment, before the message ends', async () => {
    const setup = await connectScripted();
    await setup.peer.sendFrame({ opcode: Opcode.Text, payload: Uint8Array.of(0x61, 0xff), fin: false });
    await expectFailed(setup, 1007, 'WS_ERR_INVALID_UTF8');
  });

  test('an oversized control frame fails with 1002', async () => {
    const setup = await connectScripted();
    await setup.peer.sendFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(126, 1) });
    await expectFailed(setup, 1002, 'WS_ERR_CONTROL_FRAME_TOO_LONG');
  });

  test('a fragmented control frame fails with 1002', async () => {
    const setup = await connectScripted();
    await setup.peer.sendFrame({ opcode: Opcode.Ping, payload: 'x', fin: false });
    await expectFailed(setup, 1002, 'WS_ERR_FRAGMENTED_CONTROL_FRAME');
  });

  test('a reserved opcode and unnegotiated RSV bits fail with 1002', async () => {
    const reserved = await connectScripted();
    await reserved.peer.sendFrame({ opcode: 0x3, payload: 'x' });
    await expectFailed(reserved, 1002, 'WS_ERR_INVALID_OPCODE');
    const rsv = await connectScripted();
    await rsv.peer.sendFrame({ opcode: Opcode.Text, payload: 'x', rsv1: true });
    await expectFailed(rsv, 1002, 'WS_ERR_UNEXPECTED_RSV');
  });

  test('a continuation without a message fails with 1002', async () => {
    const setup = await connectScripted();
    await setup.peer.sendFrame({ opcode: Opcode.Continuation, payload: 'x' });
    await expectFailed(setup, 1002, 'WS_ERR_UNEXPECTED_CONTINUATION');
  });

  test('a message over maxMessageSize fails with 1009 before its payload is buffered', async () => {
    const setup = await connectScripted({ maxMessageSize: 1000 });
    await setup.peer.sendRaw(Uint8Array.of(0x82, 0x7e, 0x03, 0xe9));
    await expectFailed(setup, 1009, 'WS_ERR_MESSAGE_TOO_BIG');
  });

  test('a close frame with a reserved code fails with 1002, with an invalid UTF-8 reason with 1007', async () => {
    const reserved = await connectScripted();
    await reserved.peer.sendFrame({ opcode: Opcode.Close, payload: Uint8Array.of(0x03, 0xed) });
    await expectFailed(reserved, 1002, 'WS_ERR_INVALID_CLOSE_CODE');
    const badReason = await connectScripted();
    await badReason.peer.sendFrame({ opcode: Opcode.Close, payload: Uint8Array.of(0x03, 0xe8, 0xff) });
    await expectFailed(badReason, 1007, 'WS_ERR_INVALID_CLOSE_REASON');
  });

  test('a server that never answers the close: close() resolves 1006 after closeTimeout', async () => {
    const { peer, connection } = await connectScripted({ closeTimeout: 200 });
    const started = performance.now();
    const closing = connection.close(1000, 'bye');
    expect(await peer.expectClose(1000)).toMatchObject({ code: 1000, reason: 'bye' });
    expect(await closing).toEqual({ code: 1006, reason: '', wasClean: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await peer.expectEof();
  });

  test('a server that closes: the client echoes the code and waits for the server to end TCP', async () => {
    const { peer, connection } = await connectScripted();
    await peer.sendClose(4000, 'server bye');
    await peer.expectClose(4000);
    await peer.close();
    expect(await connection.closed).toEqual({ code: 4000, reason: 'server bye', wasClean: true });
  });

  test('a server that vanishes mid-message: 1006 and the iteration throws', async () => {
    const { peer, connection } = await connectScripted();
    const iteration = (async () => {
      for await (const message of connection) void message;
    })().catch((error: unknown) => error);
    await peer.sendFrame({ opcode: Opcode.Binary, payload: 'half', fin: false });
    peer.reset();
    expect(await iteration).toBeInstanceOf(ConnectionClosedError);
    expect(await connection.closed).toEqual({ code: 1006, reason: '', wasClean: false });
  });

  test('every frame is masked with a fresh key, and the payload arrives intact', async () => {
    const { peer, connection } = await connectScripted();
    const payloads = ['first', 'second', 'third', 'x'.repeat(200), 'y'.repeat(70_000)];
    for (const payload of payloads) connection.send(payload);
    for (const payload of payloads) {
      const frame = await peer.expectFrame({ opcode: Opcode.Text, masked: true });
      expect(frame.payload.toString()).toBe(payload);
    }
    const keys = receivedMaskKeys(peer.transcript());
    expect(keys).toHaveLength(payloads.length);
    expect(new Set(keys).size).toBe(payloads.length);
  });

  test('pings are answered with the same payload; pongs resolve ping() only for their own payload', async () => {
    const { peer, connection } = await connectScripted();
    await peer.sendPing('hello');
    await peer.expectPong('hello');
    const ping = connection.ping();
    const sent = await peer.expectPing();
    await peer.sendPong('unrelated');
    await peer.sendPong(sent.payload);
    expect(await ping).toBeGreaterThan(0);
  });
});

/** The masking keys of the client's frames, read from the raw bytes the scripted server received. */
function receivedMaskKeys(entries: readonly { readonly kind: string; readonly bytes?: Buffer }[]): string[] {
  const bytes = Buffer.concat(entries.flatMap((entry) => (entry.kind === 'received' && entry.bytes ? [entry.bytes] : [])));
  const start = bytes.indexOf('\r\n\r\n') + 4;
  const keys: string[] = [];
  for (let offset = start; offset < bytes.length; ) {
    const length7 = bytes[offset + 1]! & 0x7f;
    const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    const length = length7 === 126 ? bytes.readUInt16BE(offset + 2) : length7 === 127 ? Number(bytes.readBigUInt64BE(offset + 2)) : length7;
    const keyAt = offset + 2 + extended;
    keys.push(bytes.subarray(keyAt, keyAt + 4).toString('hex'));
    offset = keyAt + 4 + length;
  }
  return keys;
}

describe('a hostile server, during the handshake', () => {
  test('a 200 answer fails with WS_ERR_HANDSHAKE_STATUS and its status and headers', async () => {
    const error = await handshakeFailure(() => 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi');
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_STATUS', status: 200 });
    expect(error.headers['content-type']).toBe('text/html');
  });

  test('a wrong Sec-WebSocket-Accept fails with WS_ERR_HANDSHAKE_ACCEPT', async () => {
    const error = await handshakeFailure(
      () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_ACCEPT', status: 101 });
  });

  test('a missing Upgrade header fails with WS_ERR_HANDSHAKE_UPGRADE, a missing Connection with ..._CONNECTION', async () => {
    const noUpgrade = await handshakeFailure(
      (key) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
    );
    expect(noUpgrade).toMatchObject({ code: 'WS_ERR_HANDSHAKE_UPGRADE', status: 101 });
    const noConnection = await handshakeFailure(
      (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n\r\n`,
    );
    expect(noConnection).toMatchObject({ code: 'WS_ERR_HANDSHAKE_CONNECTION', status: 101 });
  });

  test('an unrequested subprotocol or extension fails', async () => {
    const protocol = await handshakeFailure((key) => `${validHead(key)}Sec-WebSocket-Protocol: chat\r\n\r\n`);
    expect(protocol).toMatchObject({ code: 'WS_ERR_HANDSHAKE_PROTOCOL' });
    const notOffered = await handshakeFailure((key) => `${validHead(key)}Sec-WebSocket-Protocol: other\r\n\r\n`, {
      protocols: ['chat'],
    });
    expect(notOffered).toMatchObject({ code: 'WS_ERR_HANDSHAKE_PROTOCOL' });
    const extension = await handshakeFailure((key) => `${validHead(key)}Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
    expect(extension).toMatchObject({ code: 'WS_ERR_HANDSHAKE_EXTENSION' });
  });

  test('a garbled or truncated response fails instead of hanging', async () => {
    const garbled = await handshakeFailure(() => 'SSH-2.0-OpenSSH_9.6\r\n\r\n');
    expect(garbled).toMatchObject({ code: 'WS_ERR_HANDSHAKE_STATUS', status: 0 });

    const server = await listen();
    const connecting = connect(server.url).catch((error: unknown) => error);
    const upgrade = await server.nextUpgrade();
    upgrade.socket.end('HTTP/1.1 101 Switching');
    expect(await connecting).toMatchObject({ code: 'WS_ERR_HANDSHAKE_NETWORK', status: 0 });
  });

  test('a server that accepts the TCP connection and never answers: handshakeTimeout', async () => {
    const error = await handshakeFailure(() => '', { handshakeTimeout: 150 });
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_TIMEOUT', status: 0 });
  });

  test('an interim 1xx response is skipped; frames sent with the 101 in one write are delivered', async () => {
    const server = await listen();
    const connecting = connect(server.url);
    const peer = await server.accept({
      handshake: (request) =>
        Buffer.concat([
          Buffer.from('HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n'),
          Buffer.from(`${validHead(String(request.headers['sec-websocket-key']))}\r\n`),
          Buffer.from([0x81, 0x05]),
          Buffer.from('hello'),
        ]),
    });
    const connection: ClientConnection = await connecting;
    cleanups.push(() => connection.terminate());
    const [data, isBinary] = await once(connection, 'message');
    expect([String(data), isBinary]).toEqual(['hello', false]);
    connection.send('ok');
    await peer.expectMessage('ok');
  });

  test('a response written one byte at a time is read whole', async () => {
    const server = await listen();
    const connecting = connect(server.url);
    const upgrade = await server.nextUpgrade();
    const peer = await upgrade.answer({ handshake: () => '' });
    await peer.sendRaw(`${validHead(String(upgrade.request.headers['sec-websocket-key']))}\r\n`, { chop: 1, delay: 0 });
    const connection = await connecting;
    cleanups.push(() => connection.terminate());
    expect(connection.readyState).toBe(1);
  });
});

describe('a hostile server, memory and time during the handshake', () => {
  /** Connects to a scripted server whose answer `answer` writes on the raw socket. */
  async function rawAnswerFailure(answer: (socket: Socket) => void, options: ConnectOptions = {}) {
    const server = await listen();
    const connecting = connect(server.url, options).catch((error: unknown) => error);
    const upgrade = await server.nextUpgrade();
    upgrade.socket.on('error', () => undefined);
    answer(upgrade.socket);
    const error = await connecting;
    expect(error).toBeInstanceOf(HandshakeError);
    return { error: error as HandshakeError, socket: upgrade.socket };
  }

  test('a head trickled byte by byte and never ended is bounded by handshakeTimeout', async () => {
    let timer: NodeJS.Timeout | undefined;
    const { error } = await rawAnswerFailure(
      (socket) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nX-Pad: ');
        timer = setInterval(() => socket.write('a'), 2);
      },
      { handshakeTimeout: 300 },
    );
    clearInterval(timer);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_TIMEOUT', status: 0 });
  });

  test('endless 100 Continue fails after the interim-response cap, not at handshakeTimeout', async () => {
    const burst = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'.repeat(1000));
    const { error, socket } = await rawAnswerFailure(
      (raw) => {
        const pump = (): void => {
          if (raw.destroyed) return;
          if (raw.write(burst)) setImmediate(pump);
          else raw.once('drain', pump);
        };
        pump();
      },
      { handshakeTimeout: 10_000 },
    );
    expect(error).toMatchObject({
      code: 'WS_ERR_HANDSHAKE_STATUS',
      status: 0,
      message: 'More than 16 interim responses before the handshake response',
    });
    // The client hung up (a reset, as it had unread bytes): the server's socket closes.
    if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
  });

  test('an oversized header block fails with WS_ERR_HANDSHAKE_STATUS before it ends', async () => {
    const error = await handshakeFailure((key) => `${validHead(key)}X-Pad: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expect(error).toMatchObject({
      code: 'WS_ERR_HANDSHAKE_STATUS',
      status: 0,
      message: 'The handshake response head exceeds 16384 bytes (interim responses included)',
    });
  });
});

describe('the WHATWG WebSocket facing a hostile server', () => {
  test('a masked frame fires error (with the ProtocolError), then close 1006', async () => {
    const server = await listen();
    const socket = new WebSocket(server.url, { closeTimeout: 300 });
    cleanups.push(() => socket.close());
    const events: string[] = [];
    let errorDetail: unknown;
    socket.onerror = (event) => {
      events.push('error');
      errorDetail = (event as unknown as { error: unknown }).error;
    };
    socket.onmessage = () => events.push('message');
    const peer = await server.accept();
    await once(socket, 'open');
    await peer.sendFrame({ opcode: Opcode.Text, payload: 'masked', mask: true });
    await peer.expectClose(1002);
    const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) =>
      socket.addEventListener('close', (event) => resolve(event as unknown as { code: number; wasClean: boolean })),
    );
    await peer.close();
    const { code, wasClean } = await closed;
    expect({ code, wasClean, events }).toEqual({ code: 1006, wasClean: false, events: ['error'] });
    expect(errorDetail).toMatchObject({ code: 'WS_ERR_UNEXPECTED_MASK' });
  });

  test('a close frame from the server makes it CLOSING at once; sends are then discarded', async () => {
    const server = await listen();
    const socket = new WebSocket(server.url);
    cleanups.push(() => socket.close());
    const peer = await server.accept();
    await once(socket, 'open');
    await peer.sendClose(4001, 'leaving');
    await peer.expectClose(4001);
    expect(socket.readyState).toBe(WebSocket.CLOSING);
    socket.send('too late');
    expect(socket.bufferedAmount).toBe(8);
    await peer.expectNoFrame(30);
    const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) =>
      socket.addEventListener('close', (event) => resolve(event as unknown as { code: number; reason: string; wasClean: boolean })),
    );
    await peer.close();
    const { code, reason, wasClean } = await closed;
    expect({ code, reason, wasClean }).toEqual({ code: 4001, reason: 'leaving', wasClean: true });
  });

  test('a bad Accept fires error, then close 1006, and the socket never opens', async () => {
    const server = await listen();
    const socket = new WebSocket(server.url);
    const events: string[] = [];
    socket.onopen = () => events.push('open');
    socket.onerror = () => events.push('error');
    const closed = new Promise((resolve) => {
      socket.onclose = (event) => resolve((event as unknown as { code: number }).code);
    });
    await server.accept({
      handshake: () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n',
    });
    expect(await closed).toBe(1006);
    expect(events).toEqual(['error']);
  });
});
