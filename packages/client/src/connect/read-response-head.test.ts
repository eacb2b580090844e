import { Buffer } from 'node:buffer';
import { PassThrough } from 'node:stream';
import { HandshakeError } from '@ws/core';
import { describe, expect, test } from 'vitest';
import { readResponseHead } from './read-response-head.js';

function feed(chunks: (string | Buffer)[], end = false): PassThrough {
  const stream = new PassThrough();
  setImmediate(() => {
    for (const chunk of chunks) stream.write(chunk);
    if (end) stream.end();
  });
  return stream;
}

const signal = new AbortController().signal;
const response = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Twice: a\r\nX-Twice: b\r\n\r\n';

describe('readResponseHead', () => {
  test('parses the status line and fields, keeps the bytes after the head, leaves the stream paused', async () => {
    const stream = feed([Buffer.concat([Buffer.from(response), Buffer.from([0x81, 0x02, 0x68, 0x69])])]);
    const head = await readResponseHead(stream, signal);
    expect(head.statusCode).toBe(101);
    expect(head.statusMessage).toBe('Switching Protocols');
    expect(head.headers).toEqual({ upgrade: 'websocket', connection: 'Upgrade', 'x-twice': ['a', 'b'] });
    expect(head.rest).toEqual(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    expect(stream.isPaused()).toBe(true);
  });

  test('finds the end of the head when it arrives one byte at a time', async () => {
    const head = await readResponseHead(feed([...response].map((character) => character)), signal);
    expect(head.statusCode).toBe(101);
    expect(head.rest.length).toBe(0);
  });

  test('skips interim responses in one read and leaves the stream paused after the final head', async () => {
    const stream = feed(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n', response, 'after']);
    const head = await readResponseHead(stream, signal);
    expect(head.statusCode).toBe(101);
    expect(stream.isPaused()).toBe(true);
    expect(String(stream.read())).toBe('after');
  });

  test('accepts bare LF line ends and unfolds obs-fold', async () => {
    const head = await readResponseHead(feed(['HTTP/1.0 200 OK\nX-Long: one\n  two\n\n']), signal);
    expect(head).toMatchObject({ statusCode: 200, headers: { 'x-long': 'one two' } });
  });

  test.each([
    ['ICY 200 OK\r\n\r\n', 'bad status line'],
    ['HTTP/1.1 101 OK\r\nBad Header: x\r\n\r\n', 'bad header line'],
    ['HTTP/1.1 101 OK\r\nNo-Colon\r\n\r\n', 'bad header line'],
    ['HTTP/1.1 101 OK\r\n folded-first\r\n\r\n', 'folded line'],
  ])('rejects a malformed head %j', async (text, message) => {
    const error = await readResponseHead(feed([text]), signal).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).message).toContain(message);
  });

  test('rejects a head larger than the limit without waiting for its end', async () => {
    const error = await readResponseHead(feed(['HTTP/1.1 101 OK\r\n', `X: ${'a'.repeat(200)}\r\n`]), signal, {
      maxSize: 100,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'WS_ERR_HANDSHAKE_STATUS',
      message: 'The handshake response head exceeds 100 bytes (interim responses included)',
    });
  });

  test('rejects when the stream ends before the head is complete', async () => {
    const error = await readResponseHead(feed(['HTTP/1.1 101 OK\r\n'], true), signal).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_NETWORK', status: 0 });
  });

  test('rejects with the signal reason on abort', async () => {
    const controller = new AbortController();
    const pending = readResponseHead(new PassThrough(), controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
