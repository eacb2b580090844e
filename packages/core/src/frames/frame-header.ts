/**
 * Frame header layout, RFC 6455 §5.2:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-------+-+-------------+-------------------------------+
 *  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *  | |1|2|3|       |K|             |                               |
 *  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 */
export const FIN_BIT = 0x80;
export const RSV1_BIT = 0x40;
export const RSV2_BIT = 0x20;
export const RSV3_BIT = 0x10;
export const RSV_BITS = RSV1_BIT | RSV2_BIT | RSV3_BIT;
export const MASK_BIT = 0x80;

/** The longest header: 2 bytes, a 64-bit extended length and a 4-byte masking key. */
export const MAX_HEADER_LENGTH = 14;

/** RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less". */
export const MAX_CONTROL_PAYLOAD_LENGTH = 125;

/** Bytes the header of a frame with this payload length takes (without masking key). */
export function headerLengthFor(payloadLength: number): number {
  // RFC 6455 §5.2: 0-125 fits in 7 bits; 126 is followed by a 16-bit length; 127 by a 64-bit one.
  if (payloadLength <= 125) return 2;
  if (payloadLength <= 0xffff) return 4;
  return 10;
}

/**
 * Writes a frame header into `target` at `offset` and returns the offset just past it (past
 * the masking key when one is given). The length uses the minimal form, as RFC 6455 §5.2
 * requires: "Note that in all cases, the minimal number of bytes MUST be used to encode the length".
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  firstByte: number,
  payloadLength: number,
  maskKey?: Uint8Array,
): number {
  const maskBit = maskKey === undefined ? 0 : MASK_BIT;
  target[offset] = firstByte;
  if (payloadLength <= 125) {
    target[offset + 1] = maskBit | payloadLength;
    offset += 2;
  } else if (payloadLength <= 0xffff) {
    target[offset + 1] = maskBit | 126;
    target[offset + 2] = payloadLength >>> 8;
    target[offset + 3] = payloadLength & 0xff;
    offset += 4;
  } else {
    target[offset + 1] = maskBit | 127;
    // Payloads beyond 2^53 cannot exist in memory; the high word is at most 2^21.
    const high = Math.floor(payloadLength / 0x1_0000_0000);
    const low = payloadLength >>> 0;
    target[offset + 2] = 0;
    target[offset + 3] = 0;
    target[offset + 4] = (high >>> 8) & 0xff;
    target[offset + 5] = high & 0xff;
    target[offset + 6] = low >>> 24;
    target[offset + 7] = (low >>> 16) & 0xff;
    target[offset + 8] = (low >>> 8) & 0xff;
    target[offset + 9] = low & 0xff;
    offset += 10;
  }
  if (maskKey !== undefined) {
    target[offset] = maskKey[0]!;
    target[offset + 1] = maskKey[1]!;
    target[offset + 2] = maskKey[2]!;
    target[offset + 3] = maskKey[3]!;
    offset += 4;
  }
  return offset;
}
