import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simdMask } from './mask-simd.js';

/** RFC 6455 §5.3: "j = i MOD 4; transformed-octet-i = original-octet-i XOR masking-key-octet-j", the key as a big-endian number. */
function referenceMask(data: Uint8Array, key: number): Uint8Array {
  return data.map((byte, index) => byte ^ ((key >>> (24 - 8 * (index % 4))) & 0xff));
}

describe('simdMask', () => {
  it('masks with WebAssembly SIMD on every Node version the packages support (20 and later have it)', () => {
    const data = new Uint8Array(32).fill(0x11);
    expect(simdMask(data, 0, data.length, data, 0, 0x01020304)).toBe(true);
    expect(data).toEqual(referenceMask(new Uint8Array(32).fill(0x11), 0x01020304));
  });

  it('equals the reference in place and into another buffer, across its 64 KiB blocks, at any offsets', () => {
    const lengths = fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 2000, max: 5000 }), fc.integer({ min: 65_530, max: 140_000 }));
    fc.assert(
      fc.property(lengths, fc.nat(9), fc.nat(9), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (length, sourceStart, targetStart, key, inPlace) => {
        const bytes = Uint8Array.from({ length }, (_, index) => (index * 131 + 7) & 0xff);
        const source = new Uint8Array(sourceStart + length + 3).fill(0x5a);
        source.set(bytes, sourceStart);
        const target = inPlace ? source : new Uint8Array(targetStart + length + 3).fill(0xa5);
        const at = inPlace ? sourceStart : targetStart;
        expect(simdMask(source, sourceStart, length, target, at, key)).toBe(true);
        expect(Buffer.from(target.subarray(at, at + length)).equals(Buffer.from(referenceMask(bytes, key)))).toBe(true);
        // Nothing around the range is touched, and the source stays as it was when it is another buffer.
        const guard = inPlace ? 0x5a : 0xa5;
        expect(target.subarray(0, at).every((byte) => byte === guard)).toBe(true);
        expect(target.subarray(at + length).every((byte) => byte === guard)).toBe(true);
        if (!inPlace) expect(Buffer.from(source.subarray(sourceStart, sourceStart + length)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
