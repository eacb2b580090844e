import { Buffer } from 'node:buffer';
import { encodeFrame, Opcode } from '@ws/core';
import { SendStatus } from '@ws/core/node';
import { describe, expect, it } from 'vitest';
import { encodeMessage, type FrameSink, writeToAll } from './broadcast.js';

describe('encodeMessage', () => {
  it('encodes a short message as one unmasked frame', () => {
    expect(encodeMessage('hi')).toEqual([Buffer.from('81026869', 'hex')]);
    expect(encodeMessage(new Uint8Array([1, 2, 3]))).toEqual([Buffer.from('8203010203', 'hex')]);
    expect(encodeMessage('hi', { binary: true })).toEqual([Buffer.from('82026869', 'hex')]);
    expect(encodeMessage(Buffer.alloc(0))).toEqual([Buffer.from('8200', 'hex')]);
  });

  it('splits a message longer than fragmentSize into a first frame and continuations', () => {
    const payload = Buffer.from('abcdefghij');
    const frames = encodeMessage(payload, { fragmentSize: 4 });
    expect(frames).toEqual([
      encodeFrame({ opcode: Opcode.Binary, fin: false, payload: payload.subarray(0, 4) }),
      encodeFrame({ opcode: Opcode.Continuation, fin: false, payload: payload.subarray(4, 8) }),
      encodeFrame({ opcode: Opcode.Continuation, fin: true, payload: payload.subarray(8) }),
    ]);
  });

  it('keeps a message of exactly fragmentSize in one frame', () => {
    expect(encodeMessage('abcd', { fragmentSize: 4 })).toHaveLength(1);
  });
});

describe('writeToAll', () => {
  it('writes the same buffers to every included recipient and counts the outcomes', () => {
    const written: (readonly Buffer[])[] = [];
    const sink = (status: SendStatus): FrameSink => ({
      sendFrames: (frames) => {
        written.push(frames);
        return status;
      },
    });
    const recipients = [
      sink(SendStatus.Sent),
      sink(SendStatus.Queued),
      sink(SendStatus.Dropped),
      sink(SendStatus.Closed),
      sink(SendStatus.Sent),
    ];
    const frames = encodeMessage('x');
    const excluded = recipients[4];
    const result = writeToAll(recipients, frames, (recipient) => recipient !== excluded);
    expect(result).toEqual({ sent: 1, queued: 1, dropped: 1, closed: 1 });
    expect(written).toHaveLength(4);
    // Framed once: every recipient got the very same buffer objects.
    expect(written.every((list) => list === frames)).toBe(true);
  });
});
