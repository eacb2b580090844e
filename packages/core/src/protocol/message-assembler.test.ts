import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageAssembler } from './message-assembler.js';

/** Cuts `bytes` into pieces at the given cut points. */
function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((point) => point % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

function patterned(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let index = 0; index < length; index++) bytes[index] = (index * 31 + seed) & 0xff;
  return bytes;
}

/** Adds a piece of a message of known length as the receiver does: into its final buffer once it has one, else as a piece. */
function appendKnown(assembler: MessageAssembler, piece: Buffer, totalLength: number): void {
  const region = assembler.nextRegion(piece.length, totalLength);
  if (region === undefined) assembler.append(piece);
  else piece.copy(region);
}

describe('MessageAssembler', () => {
  it('joins pieces of any sizes in order, the length unknown', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40_000 }), fc.array(fc.nat(), { maxLength: 30 }), fc.nat(255), (length, cuts, seed) => {
        const message = patterned(length, seed);
        const assembler = new MessageAssembler();
        for (const piece of cut(message, cuts)) assembler.append(piece);
        expect(assembler.byteLength).toBe(length);
        expect(assembler.take().equals(message)).toBe(true);
        expect(assembler.isEmpty).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('joins the pieces of a large message of known length in order, however the reads cut it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8 * 1024, max: 600 * 1024 }), fc.array(fc.nat(), { maxLength: 40 }), fc.nat(255), (length, cuts, seed) => {
        const message = patterned(length, seed);
        const assembler = new MessageAssembler();
        for (const piece of cut(message, cuts)) appendKnown(assembler, piece, length);
        expect(assembler.take().equals(message)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('does not allocate a large message whose header claims it before the peer sent an eighth of it', () => {
    const assembler = new MessageAssembler();
    const claimed = 64 * 1024 * 1024;
    const before = process.memoryUsage().arrayBuffers;
    appendKnown(assembler, Buffer.alloc(100, 1), claimed);
    appendKnown(assembler, Buffer.alloc(5000, 2), claimed);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(assembler.byteLength).toBe(5100);
  });

  it('is empty and reusable after take and after clear', () => {
    const assembler = new MessageAssembler();
    const first = patterned(300 * 1024, 1);
    appendKnown(assembler, first.subarray(0, 100 * 1024), first.length);
    assembler.clear();
    expect(assembler.isEmpty).toBe(true);
    const second = patterned(300 * 1024, 2);
    for (const piece of cut(second, [50_000, 120_000, 250_000])) appendKnown(assembler, piece, second.length);
    expect(assembler.take().equals(second)).toBe(true);
    expect(assembler.isEmpty).toBe(true);
    assembler.append(Buffer.from('short'));
    expect(assembler.take().toString()).toBe('short');
  });
});
