import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from './message-envelope.js';

describe('the message envelope', () => {
  const origin = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

  it('puts the version, the flags and the origin before the payload', () => {
    const envelope = encodeEnvelope(origin, Buffer.from([0xff, 0x00]), { binary: true, compress: false });
    expect(envelope.toString('hex')).toBe(`0101${origin.toString('hex')}ff00`);
    expect(encodeEnvelope(origin, Buffer.from('hi'), { binary: false, compress: true })[1]).toBe(0b10);
  });

  it('reads back what it wrote, an empty payload included', () => {
    for (const flags of [
      { binary: true, compress: true },
      { binary: false, compress: false },
    ]) {
      for (const payload of [Buffer.alloc(0), Buffer.from('text ✓'), Buffer.from([0, 0xfe, 0xff])]) {
        const decoded = decodeEnvelope(encodeEnvelope(origin, payload, flags))!;
        expect(decoded.origin).toEqual(origin);
        expect(decoded.flags).toEqual(flags);
        expect(decoded.payload).toEqual(payload);
      }
    }
  });

  it('ignores a message too short or of another version', () => {
    expect(decodeEnvelope(Buffer.alloc(17, 1))).toBeUndefined();
    expect(decodeEnvelope(Buffer.concat([Buffer.from([2, 0]), origin]))).toBeUndefined();
  });
});
