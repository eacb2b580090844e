import { Buffer } from 'node:buffer';

/**
 * How a frame's payload length is written. RFC 6455 §5.2: "the minimal number of bytes MUST be
 * used to encode the length"; the decoder accepts the longer forms too (docs/adr/0005), so a
 * well-behaved stream may use them and the engine must deliver the same message.
 */
export const LengthForm = {
  Minimal: 'minimal',
  Extended16: 'extended16',
  Extended64: 'extended64',
} as const;

export type LengthForm = (typeof LengthForm)[keyof typeof LengthForm];

/** A frame as the peer of the engine under test sends it. */
export interface PeerFrame {
  readonly fin: boolean;
  /** RSV bits in place: RSV1 0x40, RSV2 0x20, RSV3 0x10. */
  readonly rsv: number;
  readonly opcode: number;
  readonly payload: Uint8Array;
  /** Undefined for an unmasked frame (what a server sends). */
  readonly maskKey?: Uint8Array | undefined;
  readonly lengthForm?: LengthForm | undefined;
}

/**
 * Serializes a frame. The fuzzer has its own encoder, written from RFC 6455 §5.2, so the
 * streams it builds do not depend on the encoder of the code under test.
 */
export function encodePeerFrame(frame: PeerFrame): Buffer {
  const length = frame.payload.length;
  let form = frame.lengthForm ?? LengthForm.Minimal;
  if (form === LengthForm.Minimal) {
    form = length <= 125 ? LengthForm.Minimal : length <= 0xffff ? LengthForm.Extended16 : LengthForm.Extended64;
  } else if (form === LengthForm.Extended16 && length > 0xffff) {
    form = LengthForm.Extended64;
  }
  const masked = frame.maskKey !== undefined;
  const lengthBytes = form === LengthForm.Minimal ? 0 : form === LengthForm.Extended16 ? 2 : 8;
  const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
  const bytes = Buffer.allocUnsafe(headerLength + length);
  bytes[0] = (frame.fin ? 0x80 : 0) | (frame.rsv & 0x70) | (frame.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  if (form === LengthForm.Minimal) {
    bytes[1] = maskBit | length;
  } else if (form === LengthForm.Extended16) {
    bytes[1] = maskBit | 126;
    bytes.writeUInt16BE(length, 2);
  } else {
    bytes[1] = maskBit | 127;
    bytes.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    bytes.writeUInt32BE(length >>> 0, 6);
  }
  const payloadAt = headerLength;
  if (!masked) {
    bytes.set(frame.payload, payloadAt);
    return bytes;
  }
  const key = frame.maskKey!;
  bytes.set(key.subarray(0, 4), payloadAt - 4);
  // RFC 6455 §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet
  // i of the original data ("original-octet-i") with octet at index i modulo 4 of the masking key".
  for (let index = 0; index < length; index++) bytes[payloadAt + index] = frame.payload[index]! ^ key[index & 3]!;
  return bytes;
}

/**
 * A bare frame header claiming `high * 2^32 + low` payload bytes in the 64-bit form, with no
 * payload: what a peer announcing an impossible or oversized frame sends.
 */
export function encodePeerHeader64(
  firstByte: number,
  high: number,
  low: number,
  maskKey: Uint8Array | undefined,
): Buffer {
  const bytes = Buffer.alloc(10 + (maskKey === undefined ? 0 : 4));
  bytes[0] = firstByte;
  bytes[1] = (maskKey === undefined ? 0 : 0x80) | 127;
  bytes.writeUInt32BE(high >>> 0, 2);
  bytes.writeUInt32BE(low >>> 0, 6);
  if (maskKey !== undefined) bytes.set(maskKey.subarray(0, 4), 10);
  return bytes;
}
