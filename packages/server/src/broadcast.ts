import { Buffer } from 'node:buffer';
import { encodeFrame, InvalidStateError, Opcode } from '@ws/core';
import { type SendData, SendStatus } from '@ws/core/node';

export interface EncodeMessageOptions {
  /** Send as binary. Default: true for bytes, false for strings. */
  readonly binary?: boolean;
  /** Payloads longer than this are encoded as several fragments. Default: one frame. */
  readonly fragmentSize?: number;
}

/**
 * Encodes a message once as complete server frames (unmasked, RFC 6455 §5.1), one buffer per
 * fragment, ready to be written to any number of connections. The frames carry no extension
 * bits: a broadcast is never compressed, which a peer that negotiated permessage-deflate
 * accepts (RFC 7692 §6: a message without RSV1 is not compressed).
 */
export function encodeMessage(data: SendData, options: EncodeMessageOptions = {}): Buffer[] {
  const isBinary = options.binary ?? typeof data !== 'string';
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
  const fragmentSize = options.fragmentSize ?? Infinity;
  if (!(fragmentSize > 0)) throw new InvalidStateError('fragmentSize must be positive', 'fragmentSize');
  const opcode = isBinary ? Opcode.Binary : Opcode.Text;
  if (payload.length <= fragmentSize) return [encodeFrame({ opcode, payload })];
  const frames: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += fragmentSize) {
    const end = Math.min(offset + fragmentSize, payload.length);
    frames.push(
      encodeFrame({
        opcode: offset === 0 ? opcode : Opcode.Continuation,
        fin: end === payload.length,
        payload: payload.subarray(offset, end),
      }),
    );
  }
  return frames;
}

/** What became of a broadcast, per recipient status. */
export interface BroadcastResult {
  readonly sent: number;
  readonly queued: number;
  readonly dropped: number;
  readonly closed: number;
}

/** The recipient side of a broadcast: anything that writes pre-encoded frames. */
export interface FrameSink {
  sendFrames(frames: readonly Buffer[]): SendStatus;
}

/**
 * Writes the same encoded frames to every recipient: the message is framed once whatever the
 * number of recipients, and each socket gets the same buffers (no copy per connection).
 */
export function writeToAll<Recipient extends FrameSink>(
  recipients: Iterable<Recipient>,
  frames: readonly Buffer[],
  include: (recipient: Recipient) => boolean,
): BroadcastResult {
  const counts = { sent: 0, queued: 0, dropped: 0, closed: 0 };
  for (const recipient of recipients) {
    if (!include(recipient)) continue;
    const status = recipient.sendFrames(frames);
    if (status === SendStatus.Sent) counts.sent++;
    else if (status === SendStatus.Queued) counts.queued++;
    else if (status === SendStatus.Dropped) counts.dropped++;
    else counts.closed++;
  }
  return counts;
}

function toBuffer(data: Exclude<SendData, string>): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
