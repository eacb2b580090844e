import { Buffer } from 'node:buffer';
import { DecodeStep, FrameDecoder, Opcode, headerLengthFor, isValidUtf8 } from '@ws/core';
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
 * Turns received bytes, in chunks of any size, into whole frames, using the core's frame
 * decoder. It only parses: judging whether a frame is allowed (masking direction, RSV bits,
 * opcodes, fragmentation) is the job of whoever reads the frames, since a scripted peer must
 * be able to receive anything.
 */
export class FrameReader {
  readonly #decoder = new FrameDecoder();
  #header: Omit<ReceivedFrame, 'payload'> | undefined;
  #pieces: Buffer[] = [];
  #headerBytesSoFar = 0;
  #error: string | undefined;

  /** Why the byte stream stopped being decodable (e.g. a 64-bit length with the top bit set). */
  get error(): string | undefined {
    return this.#error;
  }

  /** Whether a frame has started and not ended, or a header is half read. */
  get inFrame(): boolean {
    return this.#header !== undefined || this.#headerBytesSoFar > 0;
  }

  /** Feeds a chunk (it may be unmasked in place) and returns the frames it completed. */
  push(chunk: Buffer): ReceivedFrame[] {
    const frames: ReceivedFrame[] = [];
    if (this.#error !== undefined) return frames;
    const decoder = this.#decoder;
    decoder.push(chunk);
    for (;;) {
      const before = decoder.bufferedLength;
      const step = decoder.next();
      const consumed = before - decoder.bufferedLength;
      if (this.#header === undefined) this.#headerBytesSoFar += consumed;
      if (step === DecodeStep.NeedMore) return frames;
      if (step === DecodeStep.Error) {
        this.#error = `${decoder.errorCode ?? 'WS_ERR'}: ${decoder.errorMessage}`;
        return frames;
      }
      if (step === DecodeStep.Header) {
        const headerLength = this.#headerBytesSoFar;
        this.#headerBytesSoFar = 0;
        const payloadLength = decoder.payloadLength;
        this.#header = {
          fin: decoder.fin,
          rsv1: (decoder.rsv & 0x40) !== 0,
          rsv2: (decoder.rsv & 0x20) !== 0,
          rsv3: (decoder.rsv & 0x10) !== 0,
          opcode: decoder.opcode,
          masked: decoder.masked,
          headerLength,
          minimalLength: headerLength - (decoder.masked ? 4 : 0) === headerLengthFor(payloadLength),
        };
        this.#pieces = [];
        continue;
      }
      // DecodeStep.Payload: a view into the chunk, which stays ours, so no copy until the end.
      if (decoder.payload.length > 0) this.#pieces.push(decoder.payload);
      if (decoder.frameComplete && this.#header !== undefined) {
        const pieces = this.#pieces;
        frames.push({ ...this.#header, payload: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces) });
        this.#header = undefined;
        this.#pieces = [];
      }
    }
  }
}

const OPCODE_NAMES: Readonly<Record<number, string>> = {
  [Opcode.Continuation]: 'continuation',
  [Opcode.Text]: 'text',
  [Opcode.Binary]: 'binary',
  [Opcode.Close]: 'close',
  [Opcode.Ping]: 'ping',
  [Opcode.Pong]: 'pong',
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
  const printable = isValidUtf8(bytes) && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(head.toString('utf8'));
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
