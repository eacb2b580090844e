import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeStep, encodeFrame, FrameDecoder } from '@ws/core/wire';
import { decodeFrames, hex } from '../../test/wire.js';

/** Splits bytes at the given cut points (sorted, deduplicated, within range). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks.filter((chunk) => chunk.length > 0);
}

function decodeChunks(chunks: Buffer[]) {
  const decoder = new FrameDecoder();
  const frames: { fin: boolean; rsv: number; opcode: number; masked: boolean; payload: Buffer }[] = [];
  let pieces: Buffer[] = [];
  for (const chunk of chunks) {
    decoder.push(Buffer.from(chunk));
    for (;;) {
      const step = decoder.next();
      if (step === DecodeStep.NeedMore) break;
      if (step === DecodeStep.Error) throw new Error(decoder.errorMessage);
      if (step === DecodeStep.Header) pieces = [];
      else {
        pieces.push(Buffer.from(decoder.payload));
        if (decoder.frameComplete) {
          frames.push({ fin: decoder.fin, rsv: decoder.rsv, opcode: decoder.opcode, masked: decoder.masked, payload: Buffer.concat(pieces) });
        }
      }
    }
  }
  return frames;
}

const frameArbitrary = fc.record({
  fin: fc.boolean(),
  rsv1: fc.boolean(),
  rsv2: fc.boolean(),
  rsv3: fc.boolean(),
  opcode: fc.integer({ min: 0, max: 15 }),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 130 }),
    // Around the 16-bit/64-bit length boundary (65535/65536). The bytes repeat a short random
    // pattern: drawing 65 KB byte by byte made this one test take most of its time budget on
    // a loaded CI machine, without finding more.
    fc
      .tuple(fc.integer({ min: 65530, max: 65540 }), fc.uint8Array({ minLength: 1, maxLength: 16 }))
      .map(([length, pattern]) => Uint8Array.from({ length }, (_, index) => pattern[index % pattern.length]!)),
  ),
  maskKey: fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }), { nil: undefined }),
});

describe('FrameDecoder', () => {
  it('round-trips arbitrary frames under arbitrary chunking and masks', () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), (fields, cuts) => {
        const wire = Buffer.concat(fields.map((field) => encodeFrame(field)));
        const decoded = decodeChunks(split(wire, cuts));
        expect(decoded).toHaveLength(fields.length);
        decoded.forEach((frame, index) => {
          const field = fields[index]!;
          expect(frame.fin).toBe(field.fin);
          expect(frame.opcode).toBe(field.opcode);
          expect(frame.rsv).toBe((field.rsv1 ? 0x40 : 0) | (field.rsv2 ? 0x20 : 0) | (field.rsv3 ? 0x10 : 0));
          expect(frame.masked).toBe(field.maskKey !== undefined);
          expect(frame.payload.equals(Buffer.from(field.payload))).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives identical results byte by byte as whole', () => {
    const wire = Buffer.concat([
      encodeFrame({ opcode: 1, payload: 'Hello', maskKey: hex('01 02 03 04') }),
      encodeFrame({ opcode: 2, payload: Buffer.alloc(300, 5) }),
      encodeFrame({ opcode: 9, payload: '' }),
    ]);
    const bytewise = decodeChunks([...wire].map((byte) => Buffer.from([byte])));
    expect(bytewise).toEqual(decodeFrames(wire));
  });

  it('hands out a payload that lies inside one chunk as a view, without copying', () => {
    const chunk = Buffer.concat([hex('82 03 0a 0b 0c'), hex('82 01 0d')]);
    const decoder = new FrameDecoder();
    decoder.push(chunk);
    expect(decoder.next()).toBe(DecodeStep.Header);
    expect(decoder.next()).toBe(DecodeStep.Payload);
    expect(decoder.payload.buffer).toBe(chunk.buffer);
    expect(decoder.payload.byteOffset).toBe(chunk.byteOffset + 2);
  });

  it('lets go of a chunk once it is used up, even when the frame goes on in the next one', () => {
    const decoder = new FrameDecoder();
    const chunk = hex('82 05 0a 0b 0c');
    decoder.push(chunk);
    expect(decoder.next()).toBe(DecodeStep.Header);
    expect(decoder.next()).toBe(DecodeStep.Payload);
    expect(decoder.payload.buffer).toBe(chunk.buffer);
    expect(decoder.next()).toBe(DecodeStep.NeedMore);
    expect(decoder.payload.length).toBe(0);
    expect(decoder.payload.buffer).not.toBe(chunk.buffer);
    decoder.push(hex('0d 0e'));
    expect(decoder.next()).toBe(DecodeStep.Payload);
    expect([...decoder.payload]).toEqual([0x0d, 0x0e]);
    expect(decoder.frameComplete).toBe(true);
  });

  it('needs more bytes without consuming a partial header', () => {
    const decoder = new FrameDecoder();
    decoder.push(hex('82 7e 01'));
    expect(decoder.next()).toBe(DecodeStep.NeedMore);
    decoder.push(hex('00'));
    expect(decoder.next()).toBe(DecodeStep.Header);
    expect(decoder.payloadLength).toBe(256);
  });

  it('rejects a 64-bit length with the most significant bit set', () => {
    const decoder = new FrameDecoder();
    decoder.push(hex('82 7f 80 00 00 00 00 00 00 01'));
    expect(decoder.next()).toBe(DecodeStep.Error);
    expect(decoder.errorCode).toBe('WS_ERR_INVALID_LENGTH');
  });

  it('reads the largest safe 64-bit length exactly', () => {
    const decoder = new FrameDecoder();
    decoder.push(hex('82 7f 00 1f ff ff ff ff ff ff'));
    expect(decoder.next()).toBe(DecodeStep.Header);
    expect(decoder.payloadLength).toBe(Number.MAX_SAFE_INTEGER);
  });
  it('copies a piece out unmasked, leaving its chunk as it was, and keeps the key phase for the next piece', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6000 }), fc.array(fc.nat(), { maxLength: 6 }), fc.array(fc.boolean(), { maxLength: 8 }), (length, cuts, copyEach) => {
        const payload = Uint8Array.from({ length }, (_, index) => (index * 13 + 5) & 0xff);
        const wire = encodeFrame({ opcode: 2, payload, maskKey: hex('a1 b2 c3 d4') });
        const received = Buffer.alloc(length);
        let filled = 0;
        let piece = 0;
        const decoder = new FrameDecoder();
        for (const chunk of split(wire, cuts)) {
          const pushed = Buffer.from(chunk);
          const before = Buffer.from(pushed);
          decoder.push(pushed);
          for (let step = decoder.next(); step !== DecodeStep.NeedMore; step = decoder.next()) {
            if (step !== DecodeStep.Payload) continue;
            const pieceLength = decoder.payloadPieceLength;
            // Some pieces are copied out, others read in place: both must give the same bytes.
            if (copyEach[piece++ % Math.max(1, copyEach.length)] ?? true) {
              decoder.copyPayloadTo(received, filled);
              expect(pushed.equals(before)).toBe(true);
            } else {
              decoder.payload.copy(received, filled);
            }
            filled += pieceLength;
          }
        }
        expect(filled).toBe(length);
        expect(received.equals(Buffer.from(payload))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('never unmasks a piece nobody read once the decoder has moved on', () => {
    const payload = Buffer.from('left masked');
    const wire = Buffer.concat([encodeFrame({ opcode: 2, payload, maskKey: hex('01 02 03 04') }), encodeFrame({ opcode: 2, payload: 'x' })]);
    const decoder = new FrameDecoder();
    decoder.push(wire);
    expect(decoder.next()).toBe(DecodeStep.Header);
    expect(decoder.next()).toBe(DecodeStep.Payload);
    const unread = Buffer.from(wire.subarray(6, 6 + payload.length));
    expect(decoder.next()).toBe(DecodeStep.Header);
    // Reading `payload` now must not unmask the first frame's bytes with the second frame's state.
    void decoder.payload;
    expect(wire.subarray(6, 6 + payload.length).equals(unread)).toBe(true);
  });
});
