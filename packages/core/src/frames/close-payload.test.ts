import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors/protocol-error.js';
import { encodeClosePayload, parseClosePayload } from './close-payload.js';

const KOSME = '\u03ba\u1f79\u03c3\u03bc\u03b5';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/**
 * The rule, written out independently of isValidCloseCode: RFC 6455 §7.4.1 defines 1000-1003 and
 * 1007-1011 for use in frames (1004-1006 and 1015 never), IANA registered 1012-1014, 3000-3999 are
 * registered codes and 4000-4999 private ones; nothing else may appear in a close frame.
 */
function mayAppearInFrame(code: number): boolean {
  return [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code) || (code >= 3000 && code <= 4999);
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectProtocolError(result: unknown, code: string, closeCode: number): void {
  expect(result).toBeInstanceOf(ProtocolError);
  expect(result).toMatchObject({ code, closeCode });
}

describe('parseClosePayload', () => {
  it('an empty body is 1005 (no status received) with an empty reason', () => {
    expect(parseClosePayload(hex(''))).toEqual({ code: 1005, reason: '' });
  });

  it('a 1-byte body is WS_ERR_INVALID_CLOSE_PAYLOAD (1002)', () => {
    expectProtocolError(parseClosePayload(hex('03')), 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002);
  });

  it.each([
    ['03 e8', 1000, ''],
    ['03 e9', 1001, ''],
    ['03 e8 48 65 6c 6c 6f', 1000, 'Hello'],
    ['0b b8 62 79 65', 3000, 'bye'],
    ['0f 9f', 3999, ''],
    // "κόσμε" as in Autobahn 6.2.4: the omicron is U+1F79 (with oxia).
    ['13 87 ce ba e1 bd b9 cf 83 ce bc ce b5', 4999, KOSME],
    ['03 f0 f0 9f 98 80', 1008, '😀'],
    // A leading byte order mark is part of the reason, not stripped.
    ['03 e8 ef bb bf 41', 1000, '\ufeffA'],
    // U+FFFF and U+10FFFF are valid UTF-8.
    ['03 e8 ef bf bf f4 8f bf bf', 1000, '\uffff\u{10ffff}'],
  ])('%s is code %i, reason %j', (bytes, code, reason) => {
    expect(parseClosePayload(hex(bytes))).toEqual({ code, reason });
  });

  it.each([
    ['00 00', 0],
    ['03 e7', 999],
    ['03 ec', 1004],
    ['03 ed', 1005],
    ['03 ee', 1006],
    ['03 f7', 1015],
    ['03 f8', 1016],
    ['04 4c', 1100],
    ['07 d0', 2000],
    ['0b b7', 2999],
    ['13 88', 5000],
    ['ff ff', 65535],
    ['03 ed 62 79 65', 1005],
  ])('%s (code %i) is WS_ERR_INVALID_CLOSE_CODE (1002)', (bytes) => {
    expectProtocolError(parseClosePayload(hex(bytes)), 'WS_ERR_INVALID_CLOSE_CODE', 1002);
  });

  it.each([
    ['03 e8 ff', 'an impossible byte'],
    ['03 e8 80', 'a lone continuation byte'],
    ['03 e8 ce', 'a code point cut short at the end'],
    ['03 e8 c0 af', 'an overlong encoding'],
    ['03 e8 ed a0 80', 'a surrogate'],
    ['03 e8 f4 90 80 80', 'a code point above U+10FFFF'],
    ['03 e8 48 65 6c 6c 6f ed a0 80 65 64 69 74 65 64', 'a surrogate inside text'],
  ])('%s (%s in the reason) is WS_ERR_INVALID_CLOSE_REASON (1007)', (bytes) => {
    expectProtocolError(parseClosePayload(hex(bytes)), 'WS_ERR_INVALID_CLOSE_REASON', 1007);
  });

  it('checks the code before the reason', () => {
    expectProtocolError(parseClosePayload(hex('03 ed ff')), 'WS_ERR_INVALID_CLOSE_CODE', 1002);
  });

  it('reads a body that is an unaligned view into a larger buffer', () => {
    const backing = hex('ff ff ff 0f a0 6f 6b ff ff');
    expect(parseClosePayload(backing.subarray(3, 7))).toEqual({ code: 4000, reason: 'ok' });
    expect(parseClosePayload(new Uint8Array(backing.buffer, backing.byteOffset + 3, 4))).toEqual({ code: 4000, reason: 'ok' });
  });

  it('decodes a reason of 123 bytes, and long reasons in 4-byte characters', () => {
    const reason = 'é'.repeat(61) + 'x';
    expect(parseClosePayload(Buffer.concat([hex('03 e8'), Buffer.from(reason)]))).toEqual({ code: 1000, reason });
    const emoji = '🚀'.repeat(30);
    expect(parseClosePayload(Buffer.concat([hex('0f a0'), Buffer.from(emoji)]))).toEqual({ code: 4000, reason: emoji });
  });

  it('accepts exactly the codes that may appear in a frame, for every code 0..5000 and the top of the range', () => {
    const codes = [...Array.from({ length: 5001 }, (_, code) => code), 0x7fff, 0x8000, 0xfffe, 0xffff];
    for (const code of codes) {
      const result = parseClosePayload(Uint8Array.of(code >> 8, code & 0xff, 0x6f, 0x6b));
      if (mayAppearInFrame(code)) expect(result, `code ${code}`).toEqual({ code, reason: 'ok' });
      else expectProtocolError(result, 'WS_ERR_INVALID_CLOSE_CODE', 1002);
    }
  });
});

describe('encodeClosePayload', () => {
  it('without a code is an empty body', () => {
    expect(encodeClosePayload()).toHaveLength(0);
    expect(encodeClosePayload(undefined, '')).toHaveLength(0);
  });

  it.each([
    [1000, '', '03 e8'],
    [1001, 'going away', '03 e9 67 6f 69 6e 67 20 61 77 61 79'],
    [4999, KOSME, '13 87 ce ba e1 bd b9 cf 83 ce bc ce b5'],
    [3000, '😀', '0b b8 f0 9f 98 80'],
  ])('code %i, reason %j is %s', (code, reason, bytes) => {
    expect(Buffer.from(encodeClosePayload(code, reason))).toEqual(hex(bytes));
  });

  it('encodes a lone surrogate in the reason as U+FFFD', () => {
    expect(Buffer.from(encodeClosePayload(1000, 'a\ud800'))).toEqual(hex('03 e8 61 ef bf bd'));
  });

  it('accepts a reason of 123 UTF-8 bytes and rejects 124 (RFC 6455 §5.5: control payloads ≤ 125 bytes)', () => {
    expect(encodeClosePayload(1000, 'a'.repeat(123))).toHaveLength(125);
    expect(encodeClosePayload(1000, 'é'.repeat(61) + 'a')).toHaveLength(125);
    expect(encodeClosePayload(1000, '€'.repeat(41))).toHaveLength(125);
    const tooLong = ['a'.repeat(124), 'é'.repeat(62), '€'.repeat(42), '😀'.repeat(31)];
    for (const reason of tooLong) {
      const error = thrownBy(() => encodeClosePayload(1000, reason));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(/reason/);
    }
  });

  it('rejects a reason without a code', () => {
    const error = thrownBy(() => encodeClosePayload(undefined, 'bye'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/code/);
  });

  it('rejects codes that are not integers', () => {
    for (const code of [1000.5, Number.NaN, Number.POSITIVE_INFINITY, -1000]) {
      const error = thrownBy(() => encodeClosePayload(code));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(/code/i);
    }
  });

  it('encodes exactly the codes that may appear in a frame, for every code 0..5000, and round-trips them', () => {
    for (let code = 0; code <= 5000; code++) {
      if (mayAppearInFrame(code)) {
        const payload = encodeClosePayload(code, 'ok');
        expect(Array.from(payload), `code ${code}`).toEqual([code >> 8, code & 0xff, 0x6f, 0x6b]);
        expect(parseClosePayload(payload)).toEqual({ code, reason: 'ok' });
      } else {
        expect(() => encodeClosePayload(code), `code ${code}`).toThrow(RangeError);
      }
    }
    expect(() => encodeClosePayload(65535)).toThrow(RangeError);
  });
});
