import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// The core's encoder is the independent side here: the reader shares no code with it.
import { encodeFrame } from '@ws/core/wire';
import { FrameReader, describeFrame, describePayload, opcodeName } from './frame-reader.js';
import { hex } from './hex.js';

function readAll(bytes: Buffer, chunkSize: number) {
  const reader = new FrameReader();
  const frames = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    frames.push(...reader.push(Buffer.from(bytes.subarray(offset, offset + chunkSize))));
  }
  return { frames, reader };
}

/** The fields of a frame the RFC's examples name, payload as hex. */
function summary(frame: ReturnType<FrameReader['push']>[number]) {
  return { fin: frame.fin, opcode: frame.opcode, masked: frame.masked, payload: frame.payload.toString('hex') };
}

const HELLO = Buffer.from('Hello').toString('hex');

// RFC 6455 §5.7, each example as the RFC writes it.
const RFC_EXAMPLES = [
  {
    name: 'a single-frame unmasked text message',
    bytes: hex`81 05 48 65 6c 6c 6f`,
    frames: [{ fin: true, opcode: 0x1, masked: false, payload: HELLO }],
    headerLengths: [2],
  },
  {
    name: 'a single-frame masked text message',
    bytes: hex`81 85 37 fa 21 3d 7f 9f 4d 51 58`,
    frames: [{ fin: true, opcode: 0x1, masked: true, payload: HELLO }],
    headerLengths: [6],
  },
  {
    name: 'a fragmented unmasked text message',
    bytes: hex`01 03 48 65 6c  80 02 6c 6f`,
    frames: [
      { fin: false, opcode: 0x1, masked: false, payload: '48656c' },
      { fin: true, opcode: 0x0, masked: false, payload: '6c6f' },
    ],
    headerLengths: [2, 2],
  },
  {
    name: 'an unmasked ping request and a masked ping response',
    bytes: hex`89 05 48 65 6c 6c 6f  8a 85 37 fa 21 3d 7f 9f 4d 51 58`,
    frames: [
      { fin: true, opcode: 0x9, masked: false, payload: HELLO },
      { fin: true, opcode: 0xa, masked: true, payload: HELLO },
    ],
    headerLengths: [2, 6],
  },
  {
    name: 'a 256-byte binary message in a single unmasked frame',
    bytes: Buffer.concat([hex`82 7e 01 00`, Buffer.alloc(256, 0xab)]),
    frames: [{ fin: true, opcode: 0x2, masked: false, payload: 'ab'.repeat(256) }],
    headerLengths: [4],
  },
  {
    name: 'a 64 KiB binary message in a single unmasked frame',
    bytes: Buffer.concat([hex`82 7f 00 00 00 00 00 01 00 00`, Buffer.alloc(65536, 0xcd)]),
    frames: [{ fin: true, opcode: 0x2, masked: false, payload: 'cd'.repeat(65536) }],
    headerLengths: [10],
  },
];

describe('FrameReader, RFC 6455 §5.7 examples', () => {
  for (const example of RFC_EXAMPLES) {
    for (const [chunking, chunkSize] of [
      ['whole', example.bytes.length],
      ['1 byte at a time', 1],
    ] as const) {
      it(`reads ${example.name}, fed ${chunking}`, () => {
        const { frames, reader } = readAll(example.bytes, chunkSize);
        expect(frames.map(summary)).toEqual(example.frames);
        expect(frames.map((frame) => frame.headerLength)).toEqual(example.headerLengths);
        expect(frames.every((frame) => frame.minimalLength && !frame.rsv1 && !frame.rsv2 && !frame.rsv3)).toBe(true);
        expect(reader.error).toBeUndefined();
        expect(reader.inFrame).toBe(false);
      });
    }
  }

  for (const chunkSize of [3, 7]) {
    it(`reads all the examples back to back in chunks of ${chunkSize} bytes`, () => {
      const { frames } = readAll(Buffer.concat(RFC_EXAMPLES.map((example) => example.bytes)), chunkSize);
      expect(frames.map(summary)).toEqual(RFC_EXAMPLES.flatMap((example) => example.frames));
    });
  }
});

describe('FrameReader', () => {
  it('unmasks into its own buffer and leaves the chunk as it was', () => {
    const chunk = hex`81 85 37 fa 21 3d 7f 9f 4d 51 58`;
    const frames = new FrameReader().push(chunk);
    expect(frames[0]!.payload.toString()).toBe('Hello');
    expect(chunk).toEqual(hex`81 85 37 fa 21 3d 7f 9f 4d 51 58`);
  });

  it('reports RSV bits and a length that is not in its minimal form', () => {
    const { frames } = readAll(hex`f1 7e 00 02 68 69`, 1);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ rsv1: true, rsv2: true, rsv3: true, minimalLength: false, headerLength: 4 });
    expect(describeFrame(frames[0]!)).toBe('text frame (fin, rsv1, rsv2, rsv3, non-minimal length, 2 bytes): "hi"');
  });

  it('tells the minimal length form at each boundary (RFC 6455 §5.2)', () => {
    const frames = new FrameReader().push(
      Buffer.concat([
        hex`82 7d`, Buffer.alloc(125), // 125 in 7 bits: minimal
        hex`82 7e 00 7d`, Buffer.alloc(125), // 125 in 16 bits: not minimal
        hex`82 7e 00 7e`, Buffer.alloc(126), // 126 in 16 bits: minimal
        hex`82 7f 00 00 00 00 00 00 ff ff`, Buffer.alloc(65535), // 65535 in 64 bits: not minimal
        hex`82 7f 00 00 00 00 00 01 00 00`, Buffer.alloc(65536), // 65536 in 64 bits: minimal
        hex`82 ff 00 00 00 00 00 00 00 00 01 02 03 04`, // empty, masked, in 64 bits: not minimal
      ]),
    );
    expect(frames.map((frame) => [frame.payload.length, frame.headerLength, frame.minimalLength])).toEqual([
      [125, 2, true],
      [125, 4, false],
      [126, 4, true],
      [65535, 10, false],
      [65536, 10, true],
      [0, 14, false],
    ]);
  });

  it('delivers an empty frame', () => {
    const { frames } = readAll(hex`8a 00`, 2);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.payload.length).toBe(0);
  });

  it('knows when a frame is partly received', () => {
    const reader = new FrameReader();
    expect(reader.inFrame).toBe(false);
    expect(reader.push(hex`81`)).toEqual([]);
    expect(reader.inFrame).toBe(true);
    expect(reader.push(hex`05 48 65`)).toEqual([]);
    expect(reader.inFrame).toBe(true);
    expect(reader.push(hex`6c 6c 6f`).map(summary)).toEqual([{ fin: true, opcode: 1, masked: false, payload: HELLO }]);
    expect(reader.inFrame).toBe(false);
  });

  it('stops with an error on a 64-bit length with the top bit set', () => {
    const { frames, reader } = readAll(hex`81 05 48 65 6c 6c 6f 82 7f 80 00 00 00 00 00 00 01 00`, 4);
    expect(frames).toHaveLength(1);
    expect(reader.error).toMatch(/most significant bit of a 64-bit payload length/);
    expect(reader.push(hex`81 00`)).toEqual([]);
  });

  it('stops with an error on a length no Buffer can hold', () => {
    const { frames, reader } = readAll(hex`82 7f 00 20 00 00 00 00 00 00`, 1);
    expect(frames).toEqual([]);
    expect(reader.error).toMatch(/9007199254740992 bytes/);
  });

  it('names opcodes, reserved ones by number', () => {
    expect([0x0, 0x1, 0x2, 0x8, 0x9, 0xa, 0x3, 0xb].map(opcodeName)).toEqual([
      'continuation',
      'text',
      'binary',
      'close',
      'ping',
      'pong',
      'opcode 0x3',
      'opcode 0xb',
    ]);
  });

  it('describes payloads as text when printable, hex otherwise', () => {
    expect(describePayload(Buffer.from('Hello'))).toBe('"Hello"');
    expect(describePayload(hex`00 ff`)).toBe('00 ff');
    expect(describePayload(hex`ce ba e1 bd b9 f4 90 80 80`)).toBe('ce ba e1 bd b9 f4 90 80 80');
    expect(describePayload(Buffer.alloc(0))).toBe('empty');
    expect(describePayload(Buffer.alloc(100, 0x61), 4)).toBe('"aaaa" … (100 bytes)');
  });
});

describe('FrameReader against the core encoder', () => {
  const frameFields = fc.record({
    fin: fc.boolean(),
    rsv1: fc.boolean(),
    rsv2: fc.boolean(),
    rsv3: fc.boolean(),
    opcode: fc.integer({ min: 0, max: 15 }),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // The edges of the three length forms.
      fc.constantFrom(125, 126, 127, 65535, 65536).map((length) => Buffer.alloc(length, length & 0xff)),
    ),
    maskKey: fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }), { nil: undefined }),
  });

  it('reads back every frame the encoder writes, however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(frameFields, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (fields, cuts) => {
        const encoded = fields.map((field) => encodeFrame(field));
        const bytes = Buffer.concat(encoded);
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const reader = new FrameReader();
        const frames = [];
        let start = 0;
        for (const point of [...points, bytes.length]) {
          frames.push(...reader.push(bytes.subarray(start, point)));
          start = point;
        }
        expect(reader.error).toBeUndefined();
        expect(reader.inFrame).toBe(false);
        expect(frames).toHaveLength(fields.length);
        frames.forEach((frame, index) => {
          const field = fields[index]!;
          expect(frame).toMatchObject({
            fin: field.fin,
            rsv1: field.rsv1,
            rsv2: field.rsv2,
            rsv3: field.rsv3,
            opcode: field.opcode,
            masked: field.maskKey !== undefined,
            headerLength: encoded[index]!.length - field.payload.length,
            minimalLength: true,
          });
          expect(frame.payload.equals(field.payload)).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });
});
