import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FRAME_WORK, PerMessageDeflate, type ProtocolEvent, type ProtocolOptions, ServerProtocol } from '@ws/core';
import { maskedFrame } from '../../test/wire.js';

/**
 * `workBudget` bounds the work of one receiveData/continueReceiving call: frames and inflated
 * bytes. Whatever the budget, the same input gives the same events and output as without one;
 * only the number of calls differs.
 */

/** Feeds `chunks`, then calls continueReceiving until nothing is pending; counts the calls that stopped at the budget. */
function run(options: ProtocolOptions, chunks: readonly Buffer[]): { events: ProtocolEvent[]; output: Buffer; stops: number } {
  const protocol = new ServerProtocol(options);
  const events: ProtocolEvent[] = [];
  const output: Buffer[] = [];
  let stops = 0;
  const collect = () => {
    for (const data of protocol.dataToSend()) if (typeof data !== 'symbol') output.push(Buffer.from(data));
    events.push(...protocol.eventsReceived());
  };
  const drain = () => {
    collect();
    while (protocol.hasPendingWork) {
      stops++;
      protocol.continueReceiving();
      collect();
    }
  };
  for (const chunk of chunks) {
    protocol.receiveData(Buffer.from(chunk));
    drain();
  }
  return { events, output: Buffer.concat(output), stops };
}

/** Events as comparable summaries: vitest's deep equality walks a large Buffer byte by byte. */
function summaries(events: readonly ProtocolEvent[]): unknown[] {
  return events.map((event) =>
    'data' in event ? { ...event, data: `${event.data.length}:${createHash('sha1').update(event.data).digest('hex')}` } : event,
  );
}

/** A compressed message as RFC 7692 §7.2.1 frames it: the deflate stream without its final 00 00 ff ff. */
function compressed(payload: Buffer): Buffer {
  const deflated = deflateRawSync(payload, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  return deflated.subarray(0, deflated.length - 4);
}

const deflate = () => ({ extensions: [new PerMessageDeflate()] });

describe('workBudget', () => {
  it('stops a flood of tiny frames after the budget and goes on where it stopped', () => {
    const frames = Array.from({ length: 100 }, (_, index) => maskedFrame(0x82, Buffer.from([index])));
    const wire = Buffer.concat(frames);
    const bounded = run({ workBudget: 10 * FRAME_WORK }, [wire]);
    const unbounded = run({}, [wire]);
    expect(bounded.stops).toBeGreaterThanOrEqual(9);
    expect(bounded.events).toEqual(unbounded.events);
    expect(bounded.events).toHaveLength(100);
  });

  it('inflates a small message that decodes to megabytes in bounded steps, text checked across them', () => {
    const text = Buffer.from('é'.repeat(1024 * 1024));
    const wire = maskedFrame(0xc1, compressed(text));
    expect(wire.length).toBeLessThan(16 * 1024);
    const bounded = run({ ...deflate(), workBudget: 64 * 1024 }, [wire]);
    expect(bounded.stops).toBeGreaterThanOrEqual(20);
    expect(summaries(bounded.events)).toEqual(summaries([{ type: 'message', data: text, isBinary: false }]));
  });

  it('hands out an inflating message piece by piece in stream mode, the last piece ending it', () => {
    const payload = Buffer.alloc(512 * 1024, 7);
    const bounded = run({ ...deflate(), receiveMode: 'stream', workBudget: 64 * 1024 }, [maskedFrame(0xc2, compressed(payload))]);
    const pieces = bounded.events.filter((event) => event.type === 'piece');
    expect(pieces.length).toBeGreaterThan(4);
    expect(pieces.filter((piece) => piece.type === 'piece' && piece.messageEnd)).toHaveLength(1);
    expect(pieces.at(-1)).toMatchObject({ messageEnd: true, frameEnd: true });
    expect(Buffer.concat(pieces.map((piece) => (piece.type === 'piece' ? piece.data : Buffer.alloc(0)))).equals(payload)).toBe(true);
  });

  it('still fails a message that inflates past maxMessageSize, with 1009', () => {
    const wire = maskedFrame(0xc2, compressed(Buffer.alloc(4 * 1024 * 1024)));
    const bounded = run({ ...deflate(), maxMessageSize: 1024 * 1024, workBudget: 64 * 1024 }, [wire]);
    expect(bounded.events.map((event) => event.type)).toEqual(['error']);
    expect(bounded.events[0]).toMatchObject({ error: { closeCode: 1009 } });
  });

  it('processes what was received before the end when the transport ends mid-work', () => {
    const frames = Buffer.concat([
      ...Array.from({ length: 20 }, () => maskedFrame(0x82, Buffer.from([1]))),
      maskedFrame(0x88, Buffer.from([0x03, 0xe8])),
    ]);
    const protocol = new ServerProtocol({ workBudget: 2 * FRAME_WORK });
    protocol.receiveData(frames);
    expect(protocol.hasPendingWork).toBe(true);
    protocol.receiveEof();
    const events = protocol.eventsReceived();
    expect(events.filter((event) => event.type === 'message')).toHaveLength(20);
    expect(events.at(-1)).toMatchObject({ type: 'close', code: 1000 });
  });

  it('gives the same events for any budget and any chunking (with and without compression)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: 0, max: 70_000 }), fill: fc.integer({ min: 0, max: 255 }), compress: fc.boolean() }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 8 }),
        (messages, workBudget, cuts) => {
          const wire = Buffer.concat(
            messages.map(({ size, fill, compress }) => {
              const payload = Buffer.alloc(size, fill);
              return compress ? maskedFrame(0xc2, compressed(payload)) : maskedFrame(0x82, payload);
            }),
          );
          const chunks: Buffer[] = [];
          for (let offset = 0, index = 0; offset < wire.length; index++) {
            const end = Math.min(wire.length, offset + cuts[index % cuts.length]!);
            chunks.push(wire.subarray(offset, end));
            offset = end;
          }
          const bounded = run({ ...deflate(), workBudget }, chunks);
          const unbounded = run(deflate(), [wire]);
          expect(summaries(bounded.events)).toEqual(summaries(unbounded.events));
          expect(bounded.output.equals(unbounded.output)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
