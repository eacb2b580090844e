import { Buffer, constants, isUtf8 } from 'node:buffer';
import { formatHex } from './hex.js';

/** A whole frame as the scripted peer received it, payload unmasked. */
export interface ReceivedFrame {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly rsv2: boolean;
  readonly rsv3: boolean;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Buffer;
  /** Header bytes on the wire, masking key included. */
  readonly headerLength: number;
  /**
   * Whether the length used the shortest form. RFC 6455 §5.2: "Note that in all cases, the
   * minimal number of bytes MUST be used to encode the length".
   */
  readonly minimalLength: boolean;
}

/**
 * The frame header of RFC 6455 §5.2, written out here rather than taken from `@ws/core`: the
 * reader is the judge of what an implementation sends, so it shares no code with the one it
 * judges.
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
const FrameHeader = {
  /** First byte. */
  Fin: 0x80,
  Rsv1: 0x40,
  Rsv2: 0x20,
  Rsv3: 0x10,
  Opcode: 0x0f,
  /** Second byte. */
  Mask: 0x80,
  PayloadLength: 0x7f,
  /** Payload len values that announce an extended length. */
  Extended16: 126,
  Extended64: 127,
  MaskingKeyLength: 4,
} as const;

/** A header as read, before its payload: the frame's fields plus what reading the payload needs. */
interface PendingFrame {
  readonly fields: Omit<ReceivedFrame, 'payload'>;
  readonly payloadLength: number;
  readonly maskingKey: readonly number[] | undefined;
}

/**
 * Turns received bytes, in chunks of any size, into whole frames. It is a plain reading of
 * RFC 6455 §5.2, byte by byte, with no code from `@ws/core`: a decoder bug in the core must not
 * be able to pass the conformance judge. Simple rather than fast; it never writes into the
 * chunks it is given, and keeps views of them only until their frame is complete.
 *
 * It only parses: judging whether a frame is allowed (masking direction, RSV bits, opcodes,
 * fragmentation) is the job of whoever reads the frames, since a scripted peer must be able to
 * receive anything.
 */
export class FrameReader {
  /** The bytes of a header not complete yet (at most 14). */
  #headerBytes: number[] = [];
  /** The frame whose header is read and whose payload is still arriving. */
  #frame: PendingFrame | undefined;
  #pieces: Buffer[] = [];
  #received = 0;
  #error: string | undefined;

  /** Why the byte stream stopped being decodable (e.g. a 64-bit length with the top bit set). */
  get error(): string | undefined {
    return this.#error;
  }

  /** Whether a frame has started and not ended, or a header is half read. */
  get inFrame(): boolean {
    return this.#frame !== undefined || this.#headerBytes.length > 0;
  }

  /** Feeds a chunk and returns the frames it completed. The chunk is never modified. */
  push(chunk: Buffer): ReceivedFrame[] {
    const frames: ReceivedFrame[] = [];
    let offset = 0;
    while (this.#error === undefined) {
      if (this.#frame === undefined) {
        while (offset < chunk.length && this.#headerBytes.length < headerLengthOf(this.#headerBytes)) {
          this.#headerBytes.push(chunk[offset]!);
          offset++;
        }
        if (this.#headerBytes.length < headerLengthOf(this.#headerBytes)) return frames;
        const header = readHeader(this.#headerBytes);
        this.#headerBytes = [];
        if (typeof header === 'string') {
          this.#error = header;
          return frames;
        }
        this.#frame = header;
        this.#pieces = [];
        this.#received = 0;
      }
      const frame = this.#frame;
      const take = Math.min(frame.payloadLength - this.#received, chunk.length - offset);
      if (take > 0) this.#pieces.push(chunk.subarray(offset, offset + take));
      offset += take;
      this.#received += take;
      if (this.#received < frame.payloadLength) return frames;
      // Buffer.concat copies, even one piece: the payload is ours to unmask.
      const payload = Buffer.concat(this.#pieces, frame.payloadLength);
      if (frame.maskingKey !== undefined) unmask(payload, frame.maskingKey);
      frames.push({ ...frame.fields, payload });
      this.#frame = undefined;
      this.#pieces = [];
    }
    return frames;
  }
}

/**
 * How many bytes the header that starts with `bytes` takes: 2 until the second byte is known,
 * then 2, plus the extended length, plus the masking key.
 */
function headerLengthOf(bytes: readonly number[]): number {
  if (bytes.length < 2) return 2;
  const payloadLen = bytes[1]! & FrameHeader.PayloadLength;
  const extendedLength = payloadLen === FrameHeader.Extended16 ? 2 : payloadLen === FrameHeader.Extended64 ? 8 : 0;
  const maskingKey = (bytes[1]! & FrameHeader.Mask) !== 0 ? FrameHeader.MaskingKeyLength : 0;
  return 2 + extendedLength + maskingKey;
}

/** A whole header, field by field as §5.2 lists them; a string says why it cannot be read. */
function readHeader(bytes: readonly number[]): PendingFrame | string {
  const first = bytes[0]!;
  const second = bytes[1]!;
  const masked = (second & FrameHeader.Mask) !== 0;
  const payloadLen = second & FrameHeader.PayloadLength;

  // Payload length: "The length of the "Payload data", in bytes: if 0-125, that is the payload
  // length. If 126, the following 2 bytes interpreted as a 16-bit unsigned integer are the
  // payload length. If 127, the following 8 bytes interpreted as a 64-bit unsigned integer (the
  // most significant bit MUST be 0) are the payload length. Multibyte length quantities are
  // expressed in network byte order."
  let payloadLength: number;
  let next = 2;
  if (payloadLen < FrameHeader.Extended16) {
    payloadLength = payloadLen;
  } else {
    const lengthBytes = payloadLen === FrameHeader.Extended16 ? 2 : 8;
    const extendedLength = bytes.slice(next, next + lengthBytes);
    next += lengthBytes;
    // "(the most significant bit MUST be 0)"
    if (lengthBytes === 8 && (extendedLength[0]! & 0x80) !== 0) {
      return `the most significant bit of a 64-bit payload length is 1 (${formatHex(Uint8Array.from(extendedLength))})`;
    }
    const length = readUnsignedBigEndian(extendedLength);
    if (length > BigInt(constants.MAX_LENGTH)) {
      return `a payload length of ${length} bytes is more than one Buffer can hold (${constants.MAX_LENGTH})`;
    }
    payloadLength = Number(length);
  }

  // Masking-key: "This field is present if the mask bit is set to 1 and is absent if the mask
  // bit is set to 0."
  const maskingKey = masked ? bytes.slice(next, next + FrameHeader.MaskingKeyLength) : undefined;

  return {
    fields: {
      // FIN: "Indicates that this is the final fragment in a message."
      fin: (first & FrameHeader.Fin) !== 0,
      rsv1: (first & FrameHeader.Rsv1) !== 0,
      rsv2: (first & FrameHeader.Rsv2) !== 0,
      rsv3: (first & FrameHeader.Rsv3) !== 0,
      opcode: first & FrameHeader.Opcode,
      // Mask: "Defines whether the "Payload data" is masked."
      masked,
      headerLength: bytes.length,
      // "Note that in all cases, the minimal number of bytes MUST be used to encode the length,
      // for example, the length of a 124-byte-long string can't be encoded as the sequence 126,
      // 0, 124."
      minimalLength: payloadLen === minimalPayloadLen(payloadLength),
    },
    payloadLength,
    maskingKey,
  };
}

/** The 7-bit Payload len a sender must write for this length: the value itself, 126 or 127. */
function minimalPayloadLen(payloadLength: number): number {
  if (payloadLength < FrameHeader.Extended16) return payloadLength;
  if (payloadLength <= 0xffff) return FrameHeader.Extended16;
  return FrameHeader.Extended64;
}

/** "Multibyte length quantities are expressed in network byte order": most significant byte first. */
function readUnsignedBigEndian(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = value * 256n + BigInt(byte);
  return value;
}

/**
 * Unmasks in place, RFC 6455 §5.3: "Octet i of the transformed data ("transformed-octet-i") is
 * the XOR of octet i of the original data ("original-octet-i") with octet at index i modulo 4 of
 * the masking key ("masking-key-octet-j"):
 *
 *     j = i MOD 4
 *     transformed-octet-i = original-octet-i XOR masking-key-octet-j"
 */
function unmask(payload: Buffer, maskingKey: readonly number[]): void {
  for (let i = 0; i < payload.length; i++) {
    const j = i % 4;
    payload[i] = payload[i]! ^ maskingKey[j]!;
  }
}

/** RFC 6455 §5.2, Opcode: the six values it defines; the others are reserved. */
const OPCODE_NAMES: Readonly<Record<number, string>> = {
  // "%x0 denotes a continuation frame"
  0x0: 'continuation',
  // "%x1 denotes a text frame"
  0x1: 'text',
  // "%x2 denotes a binary frame"
  0x2: 'binary',
  // "%x8 denotes a connection close"
  0x8: 'close',
  // "%x9 denotes a ping"
  0x9: 'ping',
  // "%xA denotes a pong"
  0xa: 'pong',
};

/** "text", "ping", … or "opcode 0x3" for a reserved one. */
export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? `opcode 0x${opcode.toString(16)}`;
}

/** A payload for humans: quoted text when it is printable UTF-8, hex otherwise, both cut short. */
export function describePayload(payload: Uint8Array, limit = 48): string {
  if (payload.length === 0) return 'empty';
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const head = bytes.subarray(0, limit);
  // eslint-disable-next-line no-control-regex
  const printable = isUtf8(bytes) && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(head.toString('utf8'));
  const shown = printable ? JSON.stringify(head.toString('utf8')) : formatHex(head);
  return payload.length > limit ? `${shown} … (${payload.length} bytes)` : shown;
}

/** One line describing a frame, for failure messages: "text frame (fin, masked, 5 bytes): "Hello"". */
export function describeFrame(frame: ReceivedFrame): string {
  const flags = [
    frame.fin ? 'fin' : 'not fin',
    ...(frame.rsv1 ? ['rsv1'] : []),
    ...(frame.rsv2 ? ['rsv2'] : []),
    ...(frame.rsv3 ? ['rsv3'] : []),
    ...(frame.masked ? ['masked'] : []),
    ...(frame.minimalLength ? [] : ['non-minimal length']),
    `${frame.payload.length} bytes`,
  ];
  return `${opcodeName(frame.opcode)} frame (${flags.join(', ')}): ${describePayload(frame.payload)}`;
}
