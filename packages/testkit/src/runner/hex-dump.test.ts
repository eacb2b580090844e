import { describe, expect, it } from 'vitest';
import { hex } from '../peer/hex.js';
import { formatHexDump } from './hex-dump.js';

describe('formatHexDump', () => {
  it('prints 16 bytes a line, hex in two groups of 8, then the ASCII', () => {
    expect(formatHexDump(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n'))).toEqual([
      '0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|',
      '0010  48 6f 73 74 3a 20 61 0d  0a                       |Host: a..|',
    ]);
  });

  it('shows anything outside printable ASCII as a dot', () => {
    expect(formatHexDump(hex`81 05 48 65 6c 6c 6f 7f ff 00`)).toEqual(['0000  81 05 48 65 6c 6c 6f 7f  ff 00                    |..Hello...|']);
    expect(formatHexDump(new Uint8Array(0))).toEqual([]);
  });
});
