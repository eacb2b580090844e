import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ProtocolEvent, ServerProtocol } from '@ws/core';
import { maskedFrame } from '../../test/wire.js';

/** Feeds `bytes` to a fresh server protocol in the reads the cut points make; returns what it reported. */
function receiveInReads(bytes: Buffer, cuts: readonly number[]): ProtocolEvent[] {
  const protocol = new ServerProtocol();
  const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b);
  const events: ProtocolEvent[] = [];
  let start = 0;
  for (const end of [...points, bytes.length]) {
    // A copy per read, as a socket hands over its own buffer each time.
    if (end > start) protocol.receiveData(Buffer.from(bytes.subarray(start, end)));
    events.push(...protocol.eventsReceived());
    start = end;
  }
  return events;
}

/** Text of `length` bytes mixing one-, two-, three- and four-byte characters, so that reads cut inside them. */
function mixedText(length: number): Buffer {
  const text = Buffer.from('a€é😀'.repeat(Math.ceil(length / 10)), 'utf8');
  // Cut back to a character boundary at or before `length`.
  let end = Math.min(length, text.length);
  while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
  return text.subarray(0, end);
}

describe('messages that span several reads', () => {
  it('delivers binary and text messages of 1 KiB to 400 KiB whole and exact, however the reads cut them', () => {
    // Up to 64 KiB a message is kept as views and joined at the end; from 256 KiB its pieces
    // are unmasked straight into its final buffer: both ways are drawn.
    const lengths = fc.oneof(fc.integer({ min: 1024, max: 64 * 1024 }), fc.integer({ min: 256 * 1024, max: 400 * 1024 }));
    fc.assert(
      fc.property(
        lengths,
        fc.boolean(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        (length, isText, cuts) => {
          const payload = isText ? mixedText(length) : Buffer.from(Uint8Array.from({ length }, (_, index) => (index * 7 + 3) & 0xff));
          const frames = Buffer.concat([maskedFrame(isText ? 0x81 : 0x82, payload), maskedFrame(0x82, Buffer.from('next'))]);
          const messages = receiveInReads(frames, cuts).filter((event) => event.type === 'message');
          expect(messages).toHaveLength(2);
          const [first, second] = messages;
          expect(first?.type === 'message' && first.isBinary).toBe(!isText);
          expect(first?.type === 'message' && first.data.equals(payload)).toBe(true);
          expect(second?.type === 'message' && second.data.toString()).toBe('next');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('fails with 1007 on invalid UTF-8 in a large text message before the rest of it arrives', () => {
    const payload = Buffer.from(mixedText(300 * 1024));
    // Past an eighth of the message, where its pieces go straight into its final buffer.
    payload[100_000] = 0xff;
    const frame = maskedFrame(0x81, payload);
    const events = receiveInReads(frame.subarray(0, 110_000), [20_000, 40_000, 65_000, 90_000]);
    const error = events.find((event) => event.type === 'error');
    expect(error?.type === 'error' && error.error.closeCode).toBe(1007);
    expect(events.some((event) => event.type === 'message')).toBe(false);
  });
});
