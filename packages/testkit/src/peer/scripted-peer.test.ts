import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ExpectationError } from './expectation-error.js';
import { hex } from './hex.js';
import { createMemoryDuplexPair } from './memory-duplex.js';
import { RFC_MASK_KEY, ScriptedPeer, ZERO_MASK_KEY } from './scripted-peer.js';

/** A client-role and a server-role peer talking over memory, with the RFC's masking key. */
function pair(timeout = 200) {
  const [clientSide, serverSide] = createMemoryDuplexPair();
  const client = new ScriptedPeer(clientSide, { role: 'client', maskKey: RFC_MASK_KEY, timeout });
  const server = new ScriptedPeer(serverSide, { role: 'server', timeout });
  return { client, server };
}

const sentBytes = (peer: ScriptedPeer) =>
  Buffer.concat(peer.transcript().flatMap((entry) => (entry.kind === 'sent' ? [entry.bytes] : [])));

describe('ScriptedPeer sending', () => {
  it('masks in the client role and not in the server role (RFC 6455 §5.7 examples)', async () => {
    const { client, server } = pair();
    await client.sendText('Hello');
    await server.sendText('Hello');
    expect(sentBytes(client)).toEqual(hex`81 85 37 fa 21 3d 7f 9f 4d 51 58`);
    expect(sentBytes(server)).toEqual(hex`81 05 48 65 6c 6c 6f`);
    expect((await server.expectMessage('Hello')).frames[0]!.masked).toBe(true);
    expect((await client.expectMessage('Hello')).frames[0]!.masked).toBe(false);
  });

  it('sends any header bits, opcode and masking it is told to', async () => {
    const { client, server } = pair();
    await server.sendFrame({ opcode: 0x3, payload: 'x', fin: false, rsv1: true, rsv3: true, mask: ZERO_MASK_KEY });
    expect(sentBytes(server)).toEqual(hex`53 81 00 00 00 00 78`);
    await client.sendFrame({ opcode: 0x1, payload: 'x', mask: false });
    expect(sentBytes(client)).toEqual(hex`81 01 78`);
    const frame = await client.expectFrame({ opcode: 0x3, fin: false, rsv1: true, rsv2: false, rsv3: true, masked: true, payload: 'x' });
    expect(frame.headerLength).toBe(6);
  });

  it('encodes lengths minimally by default and in the 16- or 64-bit form on request', () => {
    const { server } = pair();
    expect(server.encodeFrame({ opcode: 0x2, payload: Buffer.alloc(125) }).subarray(0, 2)).toEqual(hex`82 7d`);
    expect(server.encodeFrame({ opcode: 0x2, payload: Buffer.alloc(126) }).subarray(0, 4)).toEqual(hex`82 7e 00 7e`);
    expect(server.encodeFrame({ opcode: 0x2, payload: Buffer.alloc(65536) }).subarray(0, 10)).toEqual(hex`82 7f 00 00 00 00 00 01 00 00`);
    expect(server.encodeFrame({ opcode: 0x1, payload: 'hi', length: '16' })).toEqual(hex`81 7e 00 02 68 69`);
    expect(server.encodeFrame({ opcode: 0x1, payload: 'hi', length: '64' })).toEqual(hex`81 7f 00 00 00 00 00 00 00 02 68 69`);
    expect(server.encodeFrame({ opcode: 0x1, payload: 'hi', length: '16', mask: ZERO_MASK_KEY })).toEqual(
      hex`81 fe 00 02 00 00 00 00 68 69`,
    );
    expect(() => server.encodeFrame({ opcode: 0x2, payload: Buffer.alloc(65536), length: '16' })).toThrow(RangeError);
  });

  it('builds close bodies for any code, invalid ones included', async () => {
    const { client, server } = pair();
    await server.sendClose(1005, 'x');
    await server.sendClose();
    expect(sentBytes(server)).toEqual(hex`88 03 03 ed 78 88 00`);
    expect(server.closeFrameSent).toBe(true);
    expect(client.closeFrameSent).toBe(false);
  });

  it('writes chopped sends byte by byte, one write per byte, in order with later sends', async () => {
    const { client, server } = pair();
    const chopped = server.sendRaw(hex`81 02 68 69`, { chop: 1, delay: 1 });
    const after = server.sendPing('p');
    await Promise.all([chopped, after]);
    const sends = server.transcript().flatMap((entry) => (entry.kind === 'sent' ? [entry.length] : []));
    expect(sends).toEqual([1, 1, 1, 1, 3]);
    await client.expectMessage('hi');
    await client.expectPing('p');
  });
});

describe('ScriptedPeer expectations', () => {
  it('reassembles fragmented messages and checks their type and content', async () => {
    const { client, server } = pair();
    await server.sendRaw(hex`02 02 00 01 80 01 02`);
    const message = await client.expectMessage(Uint8Array.of(0, 1, 2));
    expect(message.binary).toBe(true);
    expect(message.frames).toHaveLength(2);
  });

  it('returns the code and reason of a close frame, 1005 for an empty one', async () => {
    const { client, server } = pair();
    await server.sendClose(1001, 'bye');
    await server.sendClose();
    expect(await client.expectClose([1000, 1001])).toMatchObject({ code: 1001, reason: 'bye' });
    expect(await client.expectClose(1005)).toMatchObject({ code: 1005, reason: '' });
  });

  it('fails with what was expected, what arrived, and the transcript in hex', async () => {
    const { client, server } = pair();
    await server.sendText('nope');
    const error = await client.expectPong('ping payload').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExpectationError);
    const message = (error as ExpectationError).message;
    expect(message).toContain('Expected a pong frame: "ping payload", got text frame (fin, 4 bytes): "nope"');
    expect(message).toMatch(/received\s+6 B {2}81 04 6e 6f 70 65/);
  });

  it('fails an expectation after its timeout, saying nothing arrived', async () => {
    const { client } = pair();
    await expect(client.expectMessage('hi', { timeout: 30 })).rejects.toThrow(/got nothing within 30 ms/);
  });

  it('rejects a close frame whose body is invalid, naming why', async () => {
    const { client, server } = pair();
    await server.sendClose(999);
    await expect(client.expectClose()).rejects.toThrow(/close frame \(fin, 2 bytes\): 03 e7 — .*999/);
  });

  it('sees a half-close as the end of the stream and keeps its own direction open', async () => {
    const { client, server } = pair();
    await server.halfClose();
    await client.expectEof();
    expect(client.ended).toBe(true);
    await client.sendText('after your FIN');
    await server.expectMessage('after your FIN');
  });

  it('refuses the end of stream while a frame is still unread', async () => {
    const { client, server } = pair();
    await server.sendText('unread');
    await server.halfClose();
    await expect(client.expectEof()).rejects.toThrow(/Expected the end of the stream, got text frame/);
  });

  it('checks that no frame arrives for a while', async () => {
    const { client, server } = pair();
    await client.expectNoFrame(20);
    await server.sendPong();
    await expect(client.expectNoFrame(20)).rejects.toThrow(/Expected no frame for 20 ms, got pong frame/);
  });

  it('reports a reset as the end of the stream and stops sending quietly', async () => {
    const { client, server } = pair();
    server.reset();
    await client.expectEof();
    await client.sendText('lost');
    expect(client.transcript().at(-1)).toMatchObject({ kind: 'event', description: expect.stringContaining('not sent') });
  });

  it('reports undecodable bytes instead of frames', async () => {
    const { client, server } = pair();
    await server.sendRaw(hex`82 7f 80 00 00 00 00 00 00 01`);
    expect(await client.nextEvent()).toMatchObject({ type: 'malformed' });
    await expect(client.nextFrame()).rejects.toThrow(/undecodable bytes/);
  });

  it('decodes bytes handed over with the handshake before the stream', async () => {
    const [clientSide, serverSide] = createMemoryDuplexPair();
    const client = new ScriptedPeer(clientSide, { role: 'client', head: hex`81 01 61`, timeout: 200 });
    serverSide.write(hex`81 01 62`);
    await client.expectMessage('a');
    await client.expectMessage('b');
  });
});
