import { Buffer } from 'node:buffer';
import { headerLengthFor, writeFrameHeader } from '../frames/frame-header.js';
import { applyMask, maskInto } from '../frames/mask.js';

/** Marks, in the output, the point where the I/O layer half-closes its side of the transport. */
export const SEND_EOF: unique symbol = Symbol('SEND_EOF');
export type OutgoingData = Buffer | typeof SEND_EOF;

/**
 * Payloads up to this size are copied next to their header so that the frames produced in one
 * turn leave in as few buffers as possible; larger ones are written as header + payload. The
 * copy costs less than a separate buffer in the write path up to a few KiB.
 */
const COALESCE_LIMIT = 8 * 1024;
const SLAB_SIZE = 64 * 1024;

/**
 * One slab shared by every writer in the process, like Node's own Buffer pool: an idle
 * connection holds no output memory at all, and consecutive small frames of one connection
 * land next to each other so they leave as one buffer.
 */
const pool = { slab: Buffer.allocUnsafe(0), offset: 0 };

/** The output of a writer with nothing written: shared, never written to (an idle connection holds no array). */
const NO_OUTPUT: readonly OutgoingData[] = Object.freeze([]);

function reserve(byteLength: number): void {
  if (pool.offset + byteLength > pool.slab.length) {
    pool.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, byteLength));
    pool.offset = 0;
  }
}

/**
 * Serializes frames into buffers for the I/O layer, masking them when a mask-key source is
 * given (the client side). Never mutates a caller's payload.
 */
export class FrameWriter {
  readonly #maskKeySource: (() => Uint8Array) | undefined;
  #output: OutgoingData[] = NO_OUTPUT as OutgoingData[];
  #regionSlab: Buffer | undefined;
  #regionStart = 0;
  #regionEnd = 0;

  constructor(maskKeySource?: () => Uint8Array) {
    this.#maskKeySource = maskKeySource;
  }

  /** Writes one frame whose payload is given as bytes. */
  writeFrame(firstByte: number, payload: Uint8Array): void {
    const length = payload.length;
    const maskKey = this.#maskKeySource?.();
    const headerLength = headerLengthFor(length) + (maskKey === undefined ? 0 : 4);
    if (length <= COALESCE_LIMIT) {
      const at = this.#claim(headerLength + length);
      const payloadAt = writeFrameHeader(pool.slab, at, firstByte, length, maskKey);
      if (maskKey === undefined) pool.slab.set(payload, payloadAt);
      else maskInto(payload, pool.slab, payloadAt, maskKey);
      return;
    }
    // Claim first: a claim may start a new slab, and the header must land in that one.
    const headerAt = this.#claim(headerLength);
    writeFrameHeader(pool.slab, headerAt, firstByte, length, maskKey);
    this.#closeRegion();
    if (maskKey === undefined) {
      this.#append(toBuffer(payload));
    } else {
      const masked = Buffer.allocUnsafe(length);
      maskInto(payload, masked, 0, maskKey);
      this.#append(masked);
    }
  }

  /** Writes one frame whose payload is a string, encoded as UTF-8 straight into the output. */
  writeTextFrame(firstByte: number, text: string): void {
    const length = text.length <= 64 && isLatin1Ascii(text) ? text.length : Buffer.byteLength(text, 'utf8');
    if (length > COALESCE_LIMIT) {
      this.#writeOwnedFrame(firstByte, Buffer.from(text, 'utf8'));
      return;
    }
    const maskKey = this.#maskKeySource?.();
    const headerLength = headerLengthFor(length) + (maskKey === undefined ? 0 : 4);
    const at = this.#claim(headerLength + length);
    const payloadAt = writeFrameHeader(pool.slab, at, firstByte, length, maskKey);
    pool.slab.write(text, payloadAt, length, 'utf8');
    if (maskKey !== undefined) applyMask(pool.slab.subarray(payloadAt, payloadAt + length), maskKey, 0);
  }

  /** Appends bytes that are already a complete, serialized frame (a broadcast's shared frame). */
  writeRaw(bytes: Buffer): void {
    this.#closeRegion();
    this.#append(bytes);
  }

  writeEof(): void {
    this.#closeRegion();
    this.#append(SEND_EOF);
  }

  get hasOutput(): boolean {
    return this.#output.length > 0 || this.#regionSlab !== undefined;
  }

  /** Hands over everything written since the last call. */
  take(): OutgoingData[] {
    this.#closeRegion();
    const output = this.#output;
    this.#output = NO_OUTPUT as OutgoingData[];
    return output;
  }

  #append(data: OutgoingData): void {
    if (this.#output === NO_OUTPUT) this.#output = [data];
    else this.#output.push(data);
  }

  /** A payload this writer owns may be masked in place instead of copied. */
  #writeOwnedFrame(firstByte: number, payload: Buffer): void {
    const maskKey = this.#maskKeySource?.();
    const headerLength = headerLengthFor(payload.length) + (maskKey === undefined ? 0 : 4);
    const headerAt = this.#claim(headerLength);
    writeFrameHeader(pool.slab, headerAt, firstByte, payload.length, maskKey);
    this.#closeRegion();
    if (maskKey !== undefined) applyMask(payload, maskKey, 0);
    this.#append(payload);
  }

  /** Claims `byteLength` bytes of the shared slab, extending this writer's open region when contiguous. */
  #claim(byteLength: number): number {
    reserve(byteLength);
    if (this.#regionSlab !== pool.slab || this.#regionEnd !== pool.offset) {
      this.#closeRegion();
      this.#regionSlab = pool.slab;
      this.#regionStart = pool.offset;
    }
    const at = pool.offset;
    pool.offset += byteLength;
    this.#regionEnd = pool.offset;
    return at;
  }

  #closeRegion(): void {
    if (this.#regionSlab === undefined) return;
    this.#append(this.#regionSlab.subarray(this.#regionStart, this.#regionEnd));
    this.#regionSlab = undefined;
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Short strings are usually ASCII; checking saves `Buffer.byteLength`'s call overhead. */
function isLatin1Ascii(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) > 0x7f) return false;
  }
  return true;
}
