import { Buffer } from 'node:buffer';
import { headerLengthFor, writeFrameHeader } from './frame-header.js';
import { maskInto } from './mask.js';

export interface FrameFields {
  readonly fin?: boolean;
  readonly rsv1?: boolean;
  readonly rsv2?: boolean;
  readonly rsv3?: boolean;
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** A 4-byte masking key: a client's frames carry one (RFC 6455 §5.3), a server's do not. */
  readonly maskKey?: Uint8Array;
}

/**
 * Serializes one complete frame into a new buffer. The protocol's own output path writes into
 * a shared slab instead; this is for frames built once and written to many connections (a
 * broadcast), for tests, and for peers that craft frames on purpose.
 */
export function encodeFrame(fields: FrameFields): Buffer {
  const payload = typeof fields.payload === 'string' ? Buffer.from(fields.payload, 'utf8') : (fields.payload ?? Buffer.alloc(0));
  const firstByte =
    ((fields.fin ?? true) ? 0x80 : 0) |
    (fields.rsv1 ? 0x40 : 0) |
    (fields.rsv2 ? 0x20 : 0) |
    (fields.rsv3 ? 0x10 : 0) |
    (fields.opcode & 0x0f);
  const maskKey = fields.maskKey;
  const headerLength = headerLengthFor(payload.length) + (maskKey === undefined ? 0 : 4);
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  const payloadAt = writeFrameHeader(frame, 0, firstByte, payload.length, maskKey);
  if (maskKey === undefined) frame.set(payload, payloadAt);
  else maskInto(payload, frame, payloadAt, maskKey);
  return frame;
}
