import { Buffer } from 'node:buffer';

/** A frame the engine under test wrote, unmasked. */
export interface SentFrame {
  readonly fin: boolean;
  /** RSV bits in place (0x40, 0x20, 0x10). */
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** Whether the length used the minimal form, which RFC 6455 §5.2 requires of a sender. */
  readonly minimalLength: boolean;
  readonly payload: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * Splits what an engine hands to `dataToSend()` back into frames, written from RFC 6455 §5.2
 * independently of the decoder under test. Buffers may end inside a frame (a large frame is
 * written as header + payload); the rest waits for the next push.
 */
export class SentFrameReader {
  #pending: Buffer = EMPTY;

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#pending = this.#pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.#pending, bytes]);
  }

  /** Bytes of a frame not yet complete. */
  get bufferedLength(): number {
    return this.#pending.length;
  }

  /** The next complete frame, or undefined when more bytes are needed. Throws on a malformed header. */
  next(): SentFrame | undefined {
    const bytes = this.#pending;
    if (bytes.length < 2) return undefined;
    const first = bytes[0]!;
    const second = bytes[1]!;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    let at = 2;
    let minimalLength = true;
    if (length === 126) {
      if (bytes.length < 4) return undefined;
      length = bytes.readUInt16BE(2);
      minimalLength = length > 125;
      at = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return undefined;
      const high = bytes.readUInt32BE(2);
      if (high >= 0x20_0000) {
        throw new Error(`A frame was written with a 64-bit length whose high word is 0x${high.toString(16)}`);
      }
      length = high * 0x1_0000_0000 + bytes.readUInt32BE(6);
      minimalLength = length > 0xffff;
      at = 10;
    }
    const keyAt = at;
    if (masked) at += 4;
    if (bytes.length < at + length) return undefined;
    const payload = Buffer.from(bytes.subarray(at, at + length));
    if (masked) for (let index = 0; index < length; index++) payload[index]! ^= bytes[keyAt + (index & 3)]!;
    this.#pending = bytes.length === at + length ? EMPTY : bytes.subarray(at + length);
    return { fin: (first & 0x80) !== 0, rsv: first & 0x70, opcode: first & 0x0f, masked, minimalLength, payload };
  }
}
