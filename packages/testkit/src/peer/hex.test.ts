import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { formatHex, hex } from './hex.js';

describe('hex', () => {
  it('reads the RFC 6455 §5.7 single-frame unmasked "Hello"', () => {
    expect(hex`81 05 48 65 6c 6c 6f`).toEqual(Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
  });

  it('ignores whitespace, line breaks and comments', () => {
    const frame = hex`
      81      # FIN, text
      02      # unmasked, length 2
      68 69   # "hi"
    `;
    expect(frame.toString('hex')).toBe('81026869');
  });

  it('inserts bytes, numbers as single bytes and strings as more hex', () => {
    expect(hex`81 ${2} ${'68'} ${Uint8Array.of(0x69)}`.toString('hex')).toBe('81026869');
    expect(hex('0a 0B').toString('hex')).toBe('0a0b');
  });

  it('refuses typos instead of producing other bytes', () => {
    expect(() => hex`81 0`).toThrow(/odd number/);
    expect(() => hex`81 zz`).toThrow(/not hex digits/);
    expect(() => hex`${256}`).toThrow(RangeError);
    expect(() => hex`${1.5}`).toThrow(RangeError);
  });

  it('formats bytes back, cut at a limit', () => {
    expect(formatHex(hex`81 02 68 69`)).toBe('81 02 68 69');
    expect(formatHex(hex`81 02 68 69`, 2)).toBe('81 02 … (2 more bytes)');
    expect(formatHex(Buffer.alloc(0))).toBe('');
  });
});
