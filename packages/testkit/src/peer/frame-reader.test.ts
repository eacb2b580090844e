import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { FrameReader, describeFrame, describePayload } from './frame-reader.js';
import { hex } from './hex.js';

function readAll(bytes: Buffer, chunkSize: number) {
  const reader = new FrameReader();
  const frames = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    frames.push(...reader.push(Buffer.from(bytes.subarray(offset, offset + chunkSize))));
  }
  return { frames, reader };
}

describe('FrameReader', () => {
  // RFC 6455 §5.7: a fragmented unmasked text message, then a masked "Hello", then a 256-byte binary frame.
  const stream = Buffer.concat([
    hex`01 03 48 65 6c`,
    hex`80 02 6c 6f`,
    hex`81 85 37 fa 21 3d 7f 9f 4d 51 58`,
    hex`82 7e 01 00`,
    Buffer.alloc(256, 0xab),
  ]);

  for (const chunkSize of [stream.length, 1, 3]) {
    it(`decodes whole frames from chunks of ${chunkSize} bytes`, () => {
      const { frames } = readAll(stream, chunkSize);
      expect(frames.map((frame) => [frame.opcode, frame.fin, frame.masked, frame.payload.toString('latin1').slice(0, 5)])).toEqual([
        [1, false, false, 'Hel'],
        [0, true, false, 'lo'],
        [1, true, true, 'Hello'],
        [2, true, false, '\xab'.repeat(5)],
      ]);
      expect(frames[3]!.payload.length).toBe(256);
      expect(frames.map((frame) => frame.headerLength)).toEqual([2, 2, 6, 4]);
      expect(frames.every((frame) => frame.minimalLength)).toBe(true);
    });
  }

  it('reports RSV bits and a length that is not in its minimal form', () => {
    const { frames } = readAll(hex`f1 7e 00 02 68 69`, 1);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ rsv1: true, rsv2: true, rsv3: true, minimalLength: false, headerLength: 4 });
    expect(describeFrame(frames[0]!)).toBe('text frame (fin, rsv1, rsv2, rsv3, non-minimal length, 2 bytes): "hi"');
  });

  it('delivers an empty frame', () => {
    const { frames } = readAll(hex`8a 00`, 2);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.payload.length).toBe(0);
  });

  it('stops with an error on a 64-bit length with the top bit set', () => {
    const { frames, reader } = readAll(hex`81 05 48 65 6c 6c 6f 82 7f 80 00 00 00 00 00 00 01 00`, 4);
    expect(frames).toHaveLength(1);
    expect(reader.error).toMatch(/WS_ERR_INVALID_LENGTH/);
    expect(reader.push(hex`81 00`)).toEqual([]);
  });

  it('describes payloads as text when printable, hex otherwise', () => {
    expect(describePayload(Buffer.from('Hello'))).toBe('"Hello"');
    expect(describePayload(hex`00 ff`)).toBe('00 ff');
    expect(describePayload(Buffer.alloc(0))).toBe('empty');
    expect(describePayload(Buffer.alloc(100, 0x61), 4)).toBe('"aaaa" … (100 bytes)');
  });
});
