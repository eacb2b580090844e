import { Buffer } from 'node:buffer';
import { compressMessage, type DeflateSettings, Opcode, type PerMessageDeflate } from '@ws/core';
import { type SendData, SendStatus, positiveOption, toBuffer } from '@ws/core/node';
import { encodeFrame } from '@ws/core/wire';
import type { ServerConnection } from './server-connection.js';

export interface EncodeMessageOptions {
  /** Send as binary. Default: true for bytes, false for strings. */
  readonly binary?: boolean;
  /** Payloads longer than this are encoded as several fragments. Default: one frame. */
  readonly fragmentSize?: number;
}

/**
 * Encodes a message once as complete server frames (unmasked, RFC 6455 §5.1), one buffer per
 * fragment, ready to be written to any number of connections. The frames carry no extension
 * bits, which a peer that negotiated permessage-deflate accepts (RFC 7692 §6: a message without
 * RSV1 is not compressed); `BroadcastMessage` adds compressed frames where they apply.
 */
export function encodeMessage(data: SendData, options: EncodeMessageOptions = {}): Buffer[] {
  const isBinary = options.binary ?? typeof data !== 'string';
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
  return encodeFragments(payload, isBinary, false, options.fragmentSize);
}

/**
 * Frames an already compressed message payload (RFC 7692 §7.2.1) as complete server frames.
 * RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames
 * and non-first fragments of a data message", so RSV1 is on the first frame only; the
 * compressed bytes may be cut anywhere (§7.2.3.1 splits one compressed message across frames).
 */
export function encodeCompressedMessage(compressed: Buffer, options: EncodeMessageOptions = {}): Buffer[] {
  return encodeFragments(compressed, options.binary === true, true, options.fragmentSize);
}

/** The one fragmentation loop for pre-encoded frames: the first carries the opcode (and RSV1), the rest are continuations. */
function encodeFragments(payload: Buffer, isBinary: boolean, compressed: boolean, fragmentSizeOption: number | undefined): Buffer[] {
  const fragmentSize = positiveOption(fragmentSizeOption, Infinity, 'fragmentSize');
  const opcode = isBinary ? Opcode.Binary : Opcode.Text;
  if (payload.length <= fragmentSize) return [encodeFrame({ opcode, rsv1: compressed, payload })];
  const frames: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += fragmentSize) {
    const end = Math.min(offset + fragmentSize, payload.length);
    frames.push(
      encodeFrame({
        opcode: offset === 0 ? opcode : Opcode.Continuation,
        fin: end === payload.length,
        rsv1: compressed && offset === 0,
        payload: payload.subarray(offset, end),
      }),
    );
  }
  return frames;
}

export interface BroadcastOptions<Data> {
  /** Send as binary. Default: true for bytes, false for strings. */
  readonly binary?: boolean;
  /** A connection (or several) not to send to, typically the sender. */
  readonly except?: ServerConnection<Data> | Iterable<ServerConnection<Data>>;
  /** Only connections for which this returns true. */
  readonly filter?: (connection: ServerConnection<Data>) => boolean;
  /** False sends the message uncompressed to every recipient, even where permessage-deflate was agreed. */
  readonly compress?: boolean;
}

/** What became of a broadcast, per recipient status. */
export interface BroadcastResult {
  readonly sent: number;
  readonly queued: number;
  readonly dropped: number;
  readonly closed: number;
}

/** The recipient side of a broadcast: anything that writes pre-encoded frames or sends a message itself. */
export interface FrameSink {
  sendFrames(frames: readonly Buffer[]): SendStatus;
  send(data: Buffer, options: { readonly binary: boolean }): SendStatus;
}

/**
 * One broadcast message, encoded once per form its recipients need and only when one needs it:
 * plain frames, and compressed frames per set of deflate settings.
 */
export class BroadcastMessage {
  readonly payload: Buffer;
  readonly isBinary: boolean;
  readonly #fragmentSize: number;
  #plain: Buffer[] | undefined;
  readonly #compressed = new Map<string, Buffer[]>();

  constructor(data: SendData, options: EncodeMessageOptions = {}) {
    this.isBinary = options.binary ?? typeof data !== 'string';
    this.payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
    this.#fragmentSize = positiveOption(options.fragmentSize, Infinity, 'fragmentSize');
  }

  /** The uncompressed frames, the same buffers for every recipient. */
  get plainFrames(): readonly Buffer[] {
    this.#plain ??= encodeFragments(this.payload, this.isBinary, false, this.#fragmentSize);
    return this.#plain;
  }

  /** The compressed frames for recipients that compress with `settings` and without context takeover. */
  compressedFrames(settings: DeflateSettings): readonly Buffer[] {
    const key = `${settings.windowBits}:${settings.level}:${settings.memLevel}`;
    let frames = this.#compressed.get(key);
    if (frames === undefined) {
      frames = encodeFragments(compressMessage(this.payload, settings), this.isBinary, true, this.#fragmentSize);
      this.#compressed.set(key, frames);
    }
    return frames;
  }

  /**
   * Delivers the message to one recipient given its negotiated permessage-deflate (undefined
   * when none, or when this broadcast is not to be compressed): shared plain frames when the
   * extension would not compress a message this size (its threshold); shared compressed frames
   * when it compresses without context takeover; otherwise the recipient's own `send`, since a
   * peer that keeps a context expects exactly what that connection's own deflater produced.
   */
  sendTo(recipient: FrameSink, deflate: PerMessageDeflate | undefined): SendStatus {
    if (deflate === undefined || !deflate.shouldEncode(this.payload.length)) return recipient.sendFrames(this.plainFrames);
    const settings = deflate.sharedCompressionSettings;
    if (settings === undefined) return recipient.send(this.payload, { binary: this.isBinary });
    return recipient.sendFrames(this.compressedFrames(settings));
  }
}

/**
 * Delivers a broadcast to every included recipient and counts the outcomes. `deliver` hands
 * each the frames encoded once for all (no copy per connection), or has it send the message itself.
 */
export function writeToAll<Recipient>(
  recipients: Iterable<Recipient>,
  deliver: (recipient: Recipient) => SendStatus,
  include: (recipient: Recipient) => boolean,
): BroadcastResult {
  const counts = { sent: 0, queued: 0, dropped: 0, closed: 0 };
  for (const recipient of recipients) {
    if (!include(recipient)) continue;
    const status = deliver(recipient);
    if (status === SendStatus.Sent) counts.sent++;
    else if (status === SendStatus.Queued) counts.queued++;
    else if (status === SendStatus.Dropped) counts.dropped++;
    else counts.closed++;
  }
  return counts;
}
