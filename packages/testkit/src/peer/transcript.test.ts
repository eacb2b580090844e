import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { hex } from './hex.js';
import { Transcript, formatTranscript } from './transcript.js';

describe('Transcript', () => {
  it('records copies of bytes both ways and events, in order', () => {
    const transcript = new Transcript();
    const bytes = hex`81 02 68 69`;
    transcript.sent(bytes);
    bytes[0] = 0;
    transcript.received(hex`81 00`);
    transcript.event('end of stream');
    const entries = transcript.entries();
    expect(entries.map((entry) => entry.kind)).toEqual(['sent', 'received', 'event']);
    expect(entries[0]).toMatchObject({ bytes: hex`81 02 68 69`, length: 4 });
    expect(entries[1]!.at).toBeGreaterThanOrEqual(entries[0]!.at);
  });

  it('keeps the start of large entries and drops the oldest past its budget', () => {
    const transcript = new Transcript({ maxEntryBytes: 8, maxBytes: 20 });
    transcript.sent(Buffer.alloc(1000, 1));
    const [first] = transcript.entries();
    expect(first).toMatchObject({ kind: 'sent', length: 1000 });
    expect(first?.kind === 'sent' ? first.bytes.length : undefined).toBe(8);
    transcript.sent(Buffer.alloc(8, 2));
    transcript.sent(Buffer.alloc(8, 3));
    expect(transcript.droppedEntries).toBe(1);
    expect(transcript.entries()).toHaveLength(2);
  });

  it('formats entries as lines of hex, with a tail', () => {
    const transcript = new Transcript();
    transcript.sent(hex`81 82 00 00 00 00 68 69`);
    transcript.received(Buffer.alloc(100, 0xfe));
    transcript.event('connection closed');
    const text = formatTranscript(transcript.entries(), { bytesPerEntry: 4 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s+\+\d+\.\dms {2}sent\s+8 B {2}81 82 00 00 … \(\+4 B\)$/);
    expect(lines[1]).toMatch(/received\s+100 B {2}fe fe fe fe … \(\+96 B\)$/);
    expect(lines[2]).toMatch(/event\s+connection closed$/);
    expect(formatTranscript(transcript.entries(), { tail: 1 })).toMatch(/^ {2}… 2 earlier entries\n.*connection closed$/);
  });
});
