import { Buffer } from 'node:buffer';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hex } from '../../test/wire.js';
import { SynchronousZlib, ZlibFailureKind } from './synchronous-zlib.js';

const TAIL = hex('00 00 ff ff');

function text(length: number): Buffer {
  const words = ['alpha ', 'beta ', 'gamma ', 'delta ', 'epsilon '];
  let out = '';
  for (let index = 0; out.length < length; index++) out += words[(index * 7) % words.length];
  return Buffer.from(out.slice(0, length));
}

describe('SynchronousZlib', () => {
  it('deflates with Z_SYNC_FLUSH and keeps the stream (and its window) between calls', () => {
    const deflater = SynchronousZlib.deflater(15, 6, 8);
    const first = deflater.process(Buffer.from('Hello'), Infinity) as Buffer;
    const second = deflater.process(Buffer.from('Hello'), Infinity) as Buffer;
    // RFC 7692 §7.2.3.2: the second "Hello" refers back to the first.
    expect(first).toEqual(hex('f2 48 cd c9 c9 07 00 00 00 ff ff'));
    expect(second).toEqual(hex('f2 00 11 00 00 00 00 ff ff'));
    expect(inflateRawSync(Buffer.concat([first, second]), { finishFlush: constants.Z_SYNC_FLUSH }).toString()).toBe(
      'HelloHello',
    );
    deflater.close();
  });

  it('inflates a stream given in pieces of any size, output larger than its scratch buffer included', () => {
    const data = text(300_000);
    const compressed = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
    const inflater = SynchronousZlib.inflater(15);
    const whole = inflater.process(compressed, Infinity) as Buffer;
    expect(whole.equals(data)).toBe(true);
    inflater.reset();
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < compressed.length; offset += 1000) {
      pieces.push(inflater.process(compressed.subarray(offset, offset + 1000), Infinity) as Buffer);
    }
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
    inflater.close();
  });

  it('stops at maxOutputLength + 1 bytes and reports OutputTooLarge', () => {
    const compressed = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const inflater = SynchronousZlib.inflater(15);
    expect(inflater.process(compressed, 1000)).toEqual({
      kind: ZlibFailureKind.OutputTooLarge,
      message: 'Output exceeds 1000 bytes',
    });
    inflater.reset();
    expect((inflater.process(compressed, 1 << 20) as Buffer).length).toBe(1 << 20);
    inflater.reset();
    expect(inflater.process(compressed, (1 << 20) - 1)).toMatchObject({ kind: ZlibFailureKind.OutputTooLarge });
    inflater.close();
  });

  it('reports invalid data without throwing or crashing, then works again with a new engine', async () => {
    const inflater = SynchronousZlib.inflater(15);
    expect(inflater.process(hex('ff ff ff ff'), Infinity)).toEqual({
      kind: ZlibFailureKind.InvalidData,
      message: 'invalid block type',
    });
    expect(inflater.isOpen).toBe(false);
    // Node emits the error event on the next tick; an unhandled one would fail the run.
    await new Promise((resolve) => setImmediate(resolve));
    expect((inflater.process(hex('f2 48 cd c9 c9 07 00 00 00 ff ff'), Infinity) as Buffer).toString()).toBe('Hello');
    inflater.close();
  });

  it('notices the end of the stream (BFINAL) and ignores input after it until reset', () => {
    const inflater = SynchronousZlib.inflater(15);
    // RFC 7692 §7.2.3.4: "Hello" in a block with BFINAL set, then the start of an empty stored block.
    expect((inflater.process(hex('f3 48 cd c9 c9 07 00 00'), Infinity) as Buffer).toString()).toBe('Hello');
    expect(inflater.process(TAIL, Infinity)).toEqual(Buffer.alloc(0));
    expect(inflater.streamEnded).toBe(true);
    expect(inflater.process(hex('f2 48 cd c9 c9 07 00'), Infinity)).toEqual(Buffer.alloc(0));
    inflater.reset();
    expect(inflater.streamEnded).toBe(false);
    expect((inflater.process(hex('f2 48 cd c9 c9 07 00 00 00 ff ff'), Infinity) as Buffer).toString()).toBe('Hello');
    inflater.close();
  });

  it('allocates its engine on first use and frees it on close', () => {
    const deflater = SynchronousZlib.deflater(9, 1, 1);
    expect(deflater.isOpen).toBe(false);
    deflater.process(Buffer.from('x'), Infinity);
    expect(deflater.isOpen).toBe(true);
    deflater.close();
    expect(deflater.isOpen).toBe(false);
    deflater.close();
    expect(deflater.process(Buffer.alloc(0), Infinity)).toEqual(hex('00 00 00 ff ff'));
    deflater.close();
  });
});
