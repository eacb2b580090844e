import { Buffer } from 'node:buffer';
import { HandshakeError } from '@ws/core';
import { describe, expect, test } from 'vitest';
import type { ResponseHead } from './parse-response-head.js';
import { MAX_INTERIM_RESPONSES, MAX_RESPONSE_HEAD_SIZE, ResponseHeadParser, type ResponseHeadLimits } from './response-head-parser.js';

const FINAL = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Feeds `text` whole, then in 1-byte chunks; both ways must give the same outcome. */
function readBothWays(text: string | Buffer, limits?: ResponseHeadLimits): (ResponseHead | unknown)[] {
  const bytes = Buffer.from(text);
  const whole = (): ResponseHead | undefined => new ResponseHeadParser(limits).push(bytes);
  const byByte = (): ResponseHead | undefined => {
    const parser = new ResponseHeadParser(limits);
    for (let index = 0; index < bytes.length; index++) {
      const head = parser.push(bytes.subarray(index, index + 1));
      if (head !== undefined) return index === bytes.length - 1 ? head : { ...head, rest: bytes.subarray(index + 1) };
    }
    return undefined;
  };
  return [whole, byByte].map((read) => {
    try {
      return read();
    } catch (error) {
      return error;
    }
  });
}

describe('ResponseHeadParser', () => {
  test('a head inside one chunk is parsed where it is, nothing copied; the bytes after it are a view', () => {
    const chunk = Buffer.concat([Buffer.from(FINAL), Buffer.from([0x81, 0x00])]);
    const parser = new ResponseHeadParser();
    const head = parser.push(chunk)!;
    expect(head).toMatchObject({ statusCode: 101, headers: { upgrade: 'websocket', connection: 'Upgrade' } });
    expect(head.rest.buffer).toBe(chunk.buffer);
    expect([...head.rest]).toEqual([0x81, 0x00]);
    expect(parser.retainedBytes).toBe(0);
  });

  test.each([
    ['CRLF line ends', FINAL],
    ['bare LF line ends', 'HTTP/1.1 101 OK\nUpgrade: websocket\n\n'],
    ['a CR before the last LF only', 'HTTP/1.1 101 OK\nUpgrade: websocket\n\r\n'],
  ])('%s, whole and byte by byte', (_name, text) => {
    for (const head of readBothWays(text)) {
      expect(head).toMatchObject({ statusCode: 101, headers: { upgrade: 'websocket' } });
      expect((head as ResponseHead).rest.length).toBe(0);
    }
  });

  test('interim responses are skipped, whole and byte by byte, and counted', () => {
    const text = `${CONTINUE}HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n${FINAL}hi`;
    for (const head of readBothWays(text)) {
      expect(head).toMatchObject({ statusCode: 101 });
      expect(String((head as ResponseHead).rest)).toBe('hi');
    }
    const parser = new ResponseHeadParser();
    parser.push(Buffer.from(text));
    expect(parser.interimResponses).toBe(2);
  });

  test(`at most ${MAX_INTERIM_RESPONSES} interim responses, then WS_ERR_HANDSHAKE_STATUS`, () => {
    for (const head of readBothWays(`${CONTINUE.repeat(MAX_INTERIM_RESPONSES)}${FINAL}`)) {
      expect(head).toMatchObject({ statusCode: 101 });
    }
    for (const error of readBothWays(`${CONTINUE.repeat(MAX_INTERIM_RESPONSES + 1)}${FINAL}`)) {
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error).toMatchObject({
        code: 'WS_ERR_HANDSHAKE_STATUS',
        status: 0,
        message: `More than ${MAX_INTERIM_RESPONSES} interim responses before the handshake response`,
      });
    }
  });

  test('a status under 100 is a final answer, not an interim one', () => {
    for (const head of readBothWays('HTTP/1.1 099 Odd\r\n\r\n')) expect(head).toMatchObject({ statusCode: 99 });
  });

  test('the size budget covers the interim responses and the final head together', () => {
    const text = `${CONTINUE}${FINAL}`;
    for (const head of readBothWays(text, { maxSize: Buffer.byteLength(text) })) expect(head).toMatchObject({ statusCode: 101 });
    for (const error of readBothWays(text, { maxSize: Buffer.byteLength(text) - 1 })) {
      expect(error).toMatchObject({
        code: 'WS_ERR_HANDSHAKE_STATUS',
        message: `The handshake response head exceeds ${Buffer.byteLength(text) - 1} bytes (interim responses included)`,
      });
    }
  });

  test('a head trickled byte by byte is copied into one buffer that doubles, never past the limit', () => {
    const start = Buffer.from('HTTP/1.1 101 OK\r\nX-Pad: ');
    const parser = new ResponseHeadParser();
    parser.push(start);
    const capacities = new Set([parser.retainedBytes]);
    const byte = Buffer.from('a');
    let fed = start.length;
    let mostRetainedPerByte = 0;
    let error: unknown;
    try {
      for (;;) {
        parser.push(byte);
        fed++;
        capacities.add(parser.retainedBytes);
        if (fed >= 256) mostRetainedPerByte = Math.max(mostRetainedPerByte, parser.retainedBytes / fed);
      }
    } catch (caught) {
      error = caught;
    }
    expect(mostRetainedPerByte).toBeLessThanOrEqual(2);
    // 256, 512, ... 16 KiB: a handful of buffers for the whole head, not one per byte.
    expect([...capacities]).toEqual([256, 512, 1024, 2048, 4096, 8192, 16_384]);
    expect(fed).toBe(MAX_RESPONSE_HEAD_SIZE);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_STATUS' });
  });

  test('an oversized head fails as soon as the limit is passed, before its end arrives', () => {
    const parser = new ResponseHeadParser({ maxSize: 64 });
    expect(() => parser.push(Buffer.from(`HTTP/1.1 101 OK\r\nX-Pad: ${'a'.repeat(100)}`))).toThrow(
      'The handshake response head exceeds 64 bytes',
    );
  });

  test('the copy of a split head is released once the final head is read', () => {
    const parser = new ResponseHeadParser();
    parser.push(Buffer.from(FINAL.slice(0, 10)));
    expect(parser.retainedBytes).toBe(256);
    expect(parser.push(Buffer.from(FINAL.slice(10)))).toMatchObject({ statusCode: 101 });
    expect(parser.retainedBytes).toBe(0);
  });
});
