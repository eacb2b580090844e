import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMask, createMaskKeySource, maskInto, unmaskChunkRange, wordViewOf } from './mask.js';

/** RFC 6455 §5.3, literally: "j = i MOD 4; transformed-octet-i = original-octet-i XOR masking-key-octet-j". */
function referenceMask(data: Uint8Array, key: Uint8Array, maskOffset = 0): Uint8Array {
  return data.map((byte, index) => byte ^ key[(maskOffset + index) % 4]!);
}

function keyNumber(key: Uint8Array): number {
  return ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
}

/** A view of `length` bytes at `byteOffset` into a larger buffer, filled with `bytes`, guarded on both sides. */
function viewInto(bytes: Uint8Array, byteOffset: number, slack: number): { view: Uint8Array; backing: Uint8Array } {
  const backing = new Uint8Array(byteOffset + bytes.length + slack).fill(0xa5);
  const view = new Uint8Array(backing.buffer, byteOffset, bytes.length);
  view.set(bytes);
  return { view, backing };
}

const key = fc.uint8Array({ minLength: 4, maxLength: 4 });
// Lengths around the word-loop threshold and well beyond it, and odd byte offsets.
const payload = fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 1000, maxLength: 5000 }));

describe('applyMask', () => {
  it('matches RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d is 7f 9f 4d 51 58', () => {
    const data = new TextEncoder().encode('Hello');
    applyMask(data, Uint8Array.of(0x37, 0xfa, 0x21, 0x3d));
    expect(Array.from(data)).toEqual([0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    applyMask(data, 0x37fa213d);
    expect(new TextDecoder().decode(data)).toBe('Hello');
  });

  it('equals the reference for any length, view offset and mask offset, with the key as bytes or as a number', () => {
    fc.assert(
      fc.property(payload, key, fc.nat(7), fc.nat(), fc.boolean(), (bytes, maskKey, byteOffset, maskOffset, asNumber) => {
        const { view, backing } = viewInto(bytes, byteOffset, 5);
        applyMask(view, asNumber ? keyNumber(maskKey) : maskKey, maskOffset);
        expect(view).toEqual(referenceMask(bytes, maskKey, maskOffset));
        // Nothing outside the view is touched.
        expect(backing.subarray(0, byteOffset).every((byte) => byte === 0xa5)).toBe(true);
        expect(backing.subarray(byteOffset + bytes.length).every((byte) => byte === 0xa5)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('unmasks a payload split into chunks when each chunk gets the count of payload bytes before it', () => {
    fc.assert(
      fc.property(payload, key, fc.array(fc.nat(), { maxLength: 6 }), (bytes, maskKey, rawCuts) => {
        const masked = referenceMask(bytes, maskKey);
        const cuts = [...new Set(rawCuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        let start = 0;
        for (const end of [...cuts, bytes.length]) {
          // Each chunk is a view at its own place in the received data, as a frame decoder hands it out.
          applyMask(masked.subarray(start, end), maskKey, start);
          start = end;
        }
        expect(masked).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('handles an empty view and a view that ends a buffer', () => {
    const backing = new Uint8Array(70).fill(1);
    applyMask(backing.subarray(70), Uint8Array.of(1, 2, 3, 4));
    expect(backing.every((byte) => byte === 1)).toBe(true);
    applyMask(backing.subarray(3), Uint8Array.of(1, 2, 3, 4), 1);
    expect(backing.subarray(3)).toEqual(referenceMask(new Uint8Array(67).fill(1), Uint8Array.of(1, 2, 3, 4), 1));
  });

  it('rejects a key that is not 4 bytes or not an unsigned 32-bit integer', () => {
    const data = new Uint8Array(8);
    expect(() => applyMask(data, Uint8Array.of(1, 2, 3))).toThrow(RangeError);
    expect(() => applyMask(data, new Uint8Array(5))).toThrow(RangeError);
    expect(() => applyMask(data, -1)).toThrow(RangeError);
    expect(() => applyMask(data, 2 ** 32)).toThrow(RangeError);
    expect(() => applyMask(data, 1.5)).toThrow(RangeError);
    expect(data.every((byte) => byte === 0)).toBe(true);
  });
});

describe('unmaskChunkRange', () => {
  it('equals the reference on any range of a chunk at any offset in its buffer, with or without the word view', () => {
    fc.assert(
      fc.property(payload, key, fc.nat(7), fc.nat(40), fc.nat(40), fc.nat(), fc.boolean(), (bytes, maskKey, byteOffset, before, after, maskOffset, withWords) => {
        // A chunk that holds other bytes before and after the range, in a buffer it starts inside of.
        const chunkBytes = new Uint8Array(before + bytes.length + after).fill(0x3c);
        chunkBytes.set(bytes, before);
        const { view: chunk, backing } = viewInto(chunkBytes, byteOffset, 5);
        const words = withWords ? wordViewOf(chunk) : undefined;
        unmaskChunkRange(chunk, before, before + bytes.length, keyNumber(maskKey), maskOffset, words);
        expect(chunk.subarray(before, before + bytes.length)).toEqual(referenceMask(bytes, maskKey, maskOffset % 4));
        expect(chunk.subarray(0, before).every((byte) => byte === 0x3c)).toBe(true);
        expect(chunk.subarray(before + bytes.length).every((byte) => byte === 0x3c)).toBe(true);
        expect(backing.subarray(0, byteOffset).every((byte) => byte === 0xa5)).toBe(true);
        expect(backing.subarray(byteOffset + chunk.length).every((byte) => byte === 0xa5)).toBe(true);
      }),
    );
  });
});

describe('maskInto', () => {
  it('writes the masked bytes at the offset and leaves the source and the rest of the target alone', () => {
    fc.assert(
      fc.property(payload, key, fc.nat(7), fc.nat(7), fc.nat(20), (bytes, maskKey, sourceOffset, targetViewOffset, targetOffset) => {
        const { view: source } = viewInto(bytes, sourceOffset, 3);
        const original = Uint8Array.from(source);
        const targetBacking = new Uint8Array(targetViewOffset + targetOffset + bytes.length + 6).fill(0x5a);
        const target = new Uint8Array(targetBacking.buffer, targetViewOffset, targetOffset + bytes.length + 2);
        maskInto(source, target, targetOffset, maskKey);
        expect(source).toEqual(original);
        expect(target.subarray(targetOffset, targetOffset + bytes.length)).toEqual(referenceMask(bytes, maskKey));
        expect(targetBacking.subarray(0, targetViewOffset + targetOffset).every((byte) => byte === 0x5a)).toBe(true);
        expect(targetBacking.subarray(targetViewOffset + targetOffset + bytes.length).every((byte) => byte === 0x5a)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('continues the key stream from a mask offset, as applyMask does for a later chunk of a payload', () => {
    fc.assert(
      fc.property(payload, key, fc.nat(11), fc.nat(9), (bytes, maskKey, maskOffset, targetOffset) => {
        const target = new Uint8Array(targetOffset + bytes.length);
        maskInto(bytes, target, targetOffset, keyNumber(maskKey), maskOffset);
        expect(target.subarray(targetOffset)).toEqual(referenceMask(bytes, maskKey, maskOffset));
      }),
      { numRuns: 200 },
    );
  });

  it('masks in place when the source is the very range it is written to', () => {
    fc.assert(
      fc.property(payload, key, fc.nat(7), (bytes, maskKey, byteOffset) => {
        const { view, backing } = viewInto(bytes, byteOffset, 3);
        maskInto(view, backing, byteOffset, maskKey);
        expect(view).toEqual(referenceMask(bytes, maskKey));
      }),
      { numRuns: 200 },
    );
  });

  it('accepts the key as a number', () => {
    const source = new TextEncoder().encode('Hello');
    const target = new Uint8Array(7);
    maskInto(source, target, 2, 0x37fa213d);
    expect(Array.from(target)).toEqual([0, 0, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });

  it('throws RangeError when the target is too small, before writing anything', () => {
    const target = new Uint8Array(10);
    expect(() => maskInto(new Uint8Array(8), target, 3, Uint8Array.of(1, 2, 3, 4))).toThrow(RangeError);
    expect(() => maskInto(new Uint8Array(100), new Uint8Array(99), 0, 1)).toThrow(RangeError);
    expect(() => maskInto(new Uint8Array(1), target, -1, 1)).toThrow(RangeError);
    expect(target.every((byte) => byte === 0)).toBe(true);
  });
});

describe('createMaskKeySource', () => {
  it('returns 4-byte keys that later draws never overwrite, across pool refills', () => {
    const next = createMaskKeySource(16);
    const keys = Array.from({ length: 40 }, () => next());
    const snapshot = keys.map((maskKey) => Array.from(maskKey));
    for (let index = 0; index < 100; index++) next();
    expect(keys.every((maskKey) => maskKey.length === 4)).toBe(true);
    expect(keys.map((maskKey) => Array.from(maskKey))).toEqual(snapshot);
  });

  it('hands out copies, so a caller changing one key changes no other', () => {
    const next = createMaskKeySource(8);
    const first = next();
    const second = next();
    const secondBefore = Array.from(second);
    first.fill(0);
    expect(Array.from(second)).toEqual(secondBefore);
  });

  it.each([8192, 16])('draws fresh random keys (pool of %i bytes, so refills too)', (poolSize) => {
    const next = createMaskKeySource(poolSize);
    const numbers = new Set(Array.from({ length: 256 }, () => keyNumber(next())));
    // 256 random 32-bit values collide with probability about 256² / 2³³ ≈ 0.00076 %; a pool
    // that were not refilled would repeat its keys.
    expect(numbers.size).toBeGreaterThan(250);
  });

  it('rejects a pool size that is not a positive multiple of 4', () => {
    for (const size of [0, 2, 6, -4, 4.5, Number.NaN]) {
      expect(() => createMaskKeySource(size)).toThrow(RangeError);
    }
  });
});
