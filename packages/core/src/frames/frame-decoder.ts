import { Buffer } from 'node:buffer';
import type { ProtocolErrorCode } from '../errors/error-code.js';
import { MASK_BIT, MAX_HEADER_LENGTH, RSV_BITS } from './frame-header.js';
import { CHUNK_WORD_MIN_LENGTH, maskInto, unmaskChunkRange, wordViewOf } from './mask.js';

/** What one call of {@link FrameDecoder.next} produced. */
export const DecodeStep = {
  /** The input is used up; nothing was consumed that cannot be resumed. Push the next chunk. */
  NeedMore: 0,
  /** A frame header was decoded: `fin`, `rsv`, `opcode`, `masked`, `payloadLength` are set. */
  Header: 1,
  /**
   * A piece of the current frame's payload is ready: `payload` (unmasked), or `copyPayloadTo`
   * to have it unmasked into a buffer of the caller's; `frameComplete` tells if it was the last.
   */
  Payload: 2,
  /** The header is malformed beyond repair: `errorCode` and `errorMessage` say why. */
  Error: 3,
} as const;

export type DecodeStep = (typeof DecodeStep)[keyof typeof DecodeStep];

const EMPTY = Buffer.alloc(0);
/** 2^53 / 2^32: a high length word at or above this cannot be a safe integer. */
const MAX_SAFE_HIGH_WORD = 0x20_0000;

/**
 * Incremental frame decoder: an explicit state machine fed chunk by chunk. Any chunking,
 * down to one byte at a time, yields the same headers and the same payload bytes. Payload
 * pieces are views into the pushed chunk, unmasked in place when first read, never copies; only
 * the at most 14 bytes of a header that straddles two chunks are copied. A caller that copies a
 * piece anyway (into a message's final buffer) uses `copyPayloadTo` instead, which unmasks while
 * it copies and leaves the chunk as it is: one pass over the bytes instead of two.
 *
 * The decoder checks what the header itself makes invalid; the protocol checks the rules that
 * depend on the connection (masking direction, RSV bits, opcodes, fragmentation, limits).
 */
export class FrameDecoder {
  #chunk: Buffer = EMPTY;
  #offset = 0;
  /** The chunk's 64-bit word view for unmasking, made on first need and shared by its frames. */
  #words: BigUint64Array | undefined;

  /** Allocated the first time a header straddles two chunks; most connections never need it. */
  #headerBytes: Buffer | undefined;
  #headerFilled = 0;
  #inPayload = false;

  #fin = false;
  #rsv = 0;
  #opcode = 0;
  #masked = false;
  /** The masking key as the four key bytes read big-endian: a number costs no allocation. */
  #maskKey = 0;
  #payloadLength = 0;
  #payloadRemaining = 0;
  #maskOffset = 0;
  #payload: Buffer = EMPTY;
  /**
   * Whether `#payload` is still masked (until first read). It ends at `#offset` in the chunk and
   * its key phase is `#maskOffset` before its length was added: neither needs a field.
   */
  #payloadMasked = false;

  #errorCode: ProtocolErrorCode | undefined;
  #errorMessage = '';

  get fin(): boolean {
    return this.#fin;
  }
  /** The three RSV bits, in place (RSV1 = 0x40, RSV2 = 0x20, RSV3 = 0x10). */
  get rsv(): number {
    return this.#rsv;
  }
  get opcode(): number {
    return this.#opcode;
  }
  get masked(): boolean {
    return this.#masked;
  }
  get payloadLength(): number {
    return this.#payloadLength;
  }
  /** The current payload piece, unmasked (in place, in the chunk, on first read). */
  get payload(): Buffer {
    if (this.#payloadMasked) this.#unmaskPayload();
    return this.#payload;
  }
  /** The length of the current payload piece. */
  get payloadPieceLength(): number {
    return this.#payload.length;
  }
  get frameComplete(): boolean {
    return this.#payloadRemaining === 0;
  }
  get errorCode(): ProtocolErrorCode | undefined {
    return this.#errorCode;
  }
  get errorMessage(): string {
    return this.#errorMessage;
  }
  /** Bytes of the pushed chunk not consumed yet. */
  get bufferedLength(): number {
    return this.#chunk.length - this.#offset;
  }

  /** Hands the decoder the next chunk. Call only once `next()` has returned `NeedMore`. */
  push(chunk: Buffer): void {
    this.#chunk = chunk;
    this.#offset = 0;
    this.#words = undefined;
  }

  next(): DecodeStep {
    // A piece nobody read stays masked in the chunk; it must never be unmasked with a later key.
    this.#payloadMasked = false;
    return this.#inPayload ? this.#nextPayload() : this.#nextHeader();
  }

  /**
   * Writes the current payload piece, unmasked, into `target` from `targetOffset`. The chunk
   * is left as it was if the piece had not been read yet: unmasking while copying reads and
   * writes each byte once, where unmasking in place and then copying would do it twice.
   */
  copyPayloadTo(target: Uint8Array, targetOffset: number): void {
    if (this.#payloadMasked) maskInto(this.#payload, target, targetOffset, this.#maskKey, this.#pieceMaskOffset());
    else target.set(this.#payload, targetOffset);
  }

  #nextPayload(): DecodeStep {
    const available = this.#chunk.length - this.#offset;
    if (available === 0 && this.#payloadRemaining > 0) return this.#needMore();
    const take = available < this.#payloadRemaining ? available : this.#payloadRemaining;
    const start = this.#offset;
    this.#payload = take === this.#chunk.length ? this.#chunk : this.#chunk.subarray(start, start + take);
    this.#payloadMasked = this.#masked && take > 0;
    this.#maskOffset = (this.#maskOffset + take) & 3;
    this.#offset = start + take;
    this.#payloadRemaining -= take;
    if (this.#payloadRemaining === 0) this.#inPayload = false;
    return DecodeStep.Payload;
  }

  #unmaskPayload(): void {
    const length = this.#payload.length;
    const end = this.#offset;
    if (length >= CHUNK_WORD_MIN_LENGTH) this.#words ??= wordViewOf(this.#chunk);
    unmaskChunkRange(this.#chunk, end - length, end, this.#maskKey, this.#pieceMaskOffset(), this.#words);
    this.#payloadMasked = false;
  }

  /** The key phase of the current piece: the frame's phase before the piece's length was added. */
  #pieceMaskOffset(): number {
    return (this.#maskOffset - this.#payload.length) & 3;
  }

  #nextHeader(): DecodeStep {
    const chunk = this.#chunk;
    const offset = this.#offset;
    const available = chunk.length - offset;
    if (this.#headerFilled === 0 && available >= 2) {
      const needed = headerLengthOf(chunk[offset + 1]!);
      if (available >= needed) {
        this.#offset = offset + needed;
        return this.#decodeHeader(chunk, offset);
      }
    }
    return this.#accumulateHeader();
  }

  /** Slow path: the header straddles chunks, so its bytes are gathered in a 14-byte scratch. */
  #accumulateHeader(): DecodeStep {
    const chunk = this.#chunk;
    const scratch = (this.#headerBytes ??= Buffer.alloc(MAX_HEADER_LENGTH));
    const needed = this.#headerFilled < 2 ? 2 : headerLengthOf(scratch[1]!);
    const take = Math.min(needed - this.#headerFilled, chunk.length - this.#offset);
    if (take === 0) return this.#needMore();
    chunk.copy(scratch, this.#headerFilled, this.#offset, this.#offset + take);
    this.#headerFilled += take;
    this.#offset += take;
    if (this.#headerFilled < needed) return this.#accumulateHeader();
    if (needed === 2 && headerLengthOf(scratch[1]!) > 2) return this.#accumulateHeader();
    this.#headerFilled = 0;
    return this.#decodeHeader(scratch, 0);
  }

  #decodeHeader(bytes: Buffer, at: number): DecodeStep {
    const first = bytes[at]!;
    const second = bytes[at + 1]!;
    this.#fin = (first & 0x80) !== 0;
    this.#rsv = first & RSV_BITS;
    this.#opcode = first & 0x0f;
    this.#masked = (second & MASK_BIT) !== 0;
    let length = second & 0x7f;
    let next = at + 2;
    if (length === 126) {
      length = (bytes[next]! << 8) | bytes[next + 1]!;
      next += 2;
    } else if (length === 127) {
      const high = bytes.readUInt32BE(next);
      // RFC 6455 §5.2: "If 127, the following 8 bytes interpreted as a 64-bit unsigned integer
      // (the most significant bit MUST be 0) are the payload length."
      if (high >= 0x8000_0000) {
        return this.#fail('WS_ERR_INVALID_LENGTH', 'The most significant bit of a 64-bit payload length must be 0');
      }
      // A length past 2^53 cannot be held in a JavaScript number, nor in memory: refuse it
      // before it reaches any arithmetic.
      if (high >= MAX_SAFE_HIGH_WORD) {
        return this.#fail('WS_ERR_FRAME_TOO_BIG', 'Payload length exceeds 2^53 - 1 bytes');
      }
      length = high * 0x1_0000_0000 + bytes.readUInt32BE(next + 4);
      next += 8;
    }
    if (this.#masked) this.#maskKey = bytes.readUInt32BE(next);
    this.#payloadLength = length;
    this.#payloadRemaining = length;
    this.#maskOffset = 0;
    this.#inPayload = true;
    return DecodeStep.Header;
  }

  /**
   * The chunk is used up: let go of it and of the views into it, so that a connection that goes
   * quiet does not keep its last chunk (and whatever shares its memory) alive.
   */
  #needMore(): DecodeStep {
    this.#chunk = EMPTY;
    this.#offset = 0;
    this.#payload = EMPTY;
    this.#words = undefined;
    return DecodeStep.NeedMore;
  }

  #fail(code: ProtocolErrorCode, message: string): DecodeStep {
    this.#errorCode = code;
    this.#errorMessage = message;
    return DecodeStep.Error;
  }
}

/** Header length implied by the second header byte: base, extended length, masking key. */
function headerLengthOf(secondByte: number): number {
  const length7 = secondByte & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  return 2 + extended + ((secondByte & MASK_BIT) !== 0 ? 4 : 0);
}
