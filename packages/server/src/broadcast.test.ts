import { Buffer } from 'node:buffer';
import { compressMessage, Opcode, PerMessageDeflate } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { SendStatus } from '@ws/core/node';
import { describe, expect, it } from 'vitest';
import { BroadcastMessage, encodeCompressedMessage, encodeMessage, type FrameSink, writeToAll } from './broadcast.js';

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
  it('delivers to every included recipient and counts the outcomes', () => {
    const delivered: number[] = [];
    const recipients = [SendStatus.Sent, SendStatus.Queued, SendStatus.Dropped, SendStatus.Closed, SendStatus.Sent];
    const result = writeToAll(
      recipients.map((status, index) => ({ status, index })),
      (recipient) => {
        delivered.push(recipient.index);
        return recipient.status;
      },
      (recipient) => recipient.index !== 4,
    );
    expect(result).toEqual({ sent: 1, queued: 1, dropped: 1, closed: 1 });
    expect(delivered).toEqual([0, 1, 2, 3]);
  });
});

describe('BroadcastMessage', () => {
  const settings = { windowBits: 15, level: 1, memLevel: 8 } as const;

  function sink() {
    const calls: { kind: 'frames' | 'send'; value: readonly Buffer[] | Buffer }[] = [];
    const recipient: FrameSink = {
      sendFrames: (frames) => {
        calls.push({ kind: 'frames', value: frames });
        return SendStatus.Sent;
      },
      send: (data) => {
        calls.push({ kind: 'send', value: data });
        return SendStatus.Sent;
      },
    };
    return { recipient, calls };
  }

  function deflate(parameters: ConstructorParameters<typeof PerMessageDeflate>[0]): PerMessageDeflate {
    return new PerMessageDeflate({ compressNoContextTakeover: true, threshold: 16, ...parameters });
  }

  it('frames plainly for a recipient without deflate or below its threshold, the same buffers for all', () => {
    const message = new BroadcastMessage('short');
    const first = sink();
    const second = sink();
    message.sendTo(first.recipient, undefined);
    message.sendTo(second.recipient, deflate({}));
    expect(first.calls[0]!.value).toEqual([Buffer.from('810573686f7274', 'hex')]);
    expect(second.calls[0]!.value).toBe(first.calls[0]!.value);
  });

  it('compresses once for every recipient sharing the settings, RSV1 on the first frame only', () => {
    const text = 'a broadcast, compressed once '.repeat(40);
    const message = new BroadcastMessage(text, { fragmentSize: 20 });
    const recipients = [sink(), sink(), sink()];
    const extensions = [deflate({}), deflate({}), deflate({ level: 9 })];
    recipients.forEach((each, index) => message.sendTo(each.recipient, extensions[index]));
    const [first, second, third] = recipients.map((each) => each.calls[0]!.value as readonly Buffer[]);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    const compressed = compressMessage(Buffer.from(text), settings);
    expect(first).toEqual(encodeCompressedMessage(compressed, { fragmentSize: 20 }));
    // 0xc1: FIN, RSV1, text when whole; 0x41 RSV1 + text, then continuations 0x00 and a final 0x80.
    expect(first![0]![0]).toBe(0x41);
    expect(first!.slice(1, -1).every((frame) => frame[0] === 0x00)).toBe(true);
    expect(first!.at(-1)![0]).toBe(0x80);
    // What the recipients' peers decode is the message.
    const peer = new PerMessageDeflate({ decompressNoContextTakeover: true });
    expect(Buffer.from(peer.decode(compressed, true, 1 << 20) as Uint8Array).toString()).toBe(text);
  });

  it('leaves a recipient whose side keeps its context to compress the message itself', () => {
    const message = new BroadcastMessage(Buffer.alloc(100, 1));
    const own = sink();
    message.sendTo(own.recipient, new PerMessageDeflate({ compressNoContextTakeover: false, threshold: 16 }));
    expect(own.calls).toEqual([{ kind: 'send', value: Buffer.alloc(100, 1) }]);
  });

  it('encodes a short compressed message as one frame with FIN and RSV1', () => {
    expect(encodeCompressedMessage(Buffer.from('f248cdc9c90700', 'hex'))).toEqual([Buffer.from('c107f248cdc9c90700', 'hex')]);
    expect(encodeCompressedMessage(Buffer.from('00', 'hex'), { binary: true })).toEqual([Buffer.from('c20100', 'hex')]);
  });
});
