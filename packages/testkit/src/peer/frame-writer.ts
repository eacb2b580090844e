import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { createMaskKeySource, encodeFrame, headerLengthFor } from '@ws/core/wire';
import type { Transcript } from './transcript.js';

export interface SendFrameOptions {
  readonly opcode: number;
  readonly payload?: string | Uint8Array;
  /** Default true. */
  readonly fin?: boolean;
  readonly rsv1?: boolean;
  readonly rsv2?: boolean;
  readonly rsv3?: boolean;
  /**
   * A 4-byte key to mask with, false to send unmasked, true to mask with a fresh key. Default:
   * masked in the client role (RFC 6455 §5.3), unmasked in the server role.
   */
  readonly mask?: Uint8Array | boolean;
  /**
   * How to encode the payload length: the shortest form (default, as RFC 6455 §5.2 requires),
   * or forced into the 16-bit or 64-bit extended form to test a receiver's tolerance.
   */
  readonly length?: 'minimal' | '16' | '64';
}

export interface WriteOptions {
  /** Write in pieces of this many bytes (1 sends byte by byte), each its own TCP segment. */
  readonly chop?: number;
  /** Milliseconds between pieces when chopping. Default 1; 0 waits only for each write. */
  readonly delay?: number;
}

export interface FrameWriterOptions {
  /** Whether frames are masked when the caller does not say (true in the client role). */
  readonly maskByDefault: boolean;
  /** A fixed masking key for every masked frame; otherwise a fresh random key per frame. */
  readonly maskKey: Uint8Array | undefined;
}

/**
 * The sending half of a scripted peer: encodes frames exactly as described, valid or not, and
 * writes bytes in order — whole or chopped into pieces — recording each write in the transcript.
 */
export class FrameWriter {
  readonly #socket: Duplex;
  readonly #transcript: Transcript;
  readonly #maskByDefault: boolean;
  readonly #maskKey: Uint8Array | undefined;
  readonly #maskKeySource = createMaskKeySource();
  #writes: Promise<void> = Promise.resolve();

  constructor(socket: Duplex, transcript: Transcript, options: FrameWriterOptions) {
    this.#socket = socket;
    this.#transcript = transcript;
    this.#maskByDefault = options.maskByDefault;
    this.#maskKey = options.maskKey;
  }

  encode(options: SendFrameOptions): Buffer {
    const maskKey = this.#maskFor(options.mask);
    const frame = encodeFrame({
      opcode: options.opcode,
      payload: options.payload ?? Buffer.alloc(0),
      fin: options.fin ?? true,
      rsv1: options.rsv1 ?? false,
      rsv2: options.rsv2 ?? false,
      rsv3: options.rsv3 ?? false,
      ...(maskKey === undefined ? {} : { maskKey }),
    });
    const length = options.length ?? 'minimal';
    if (length === 'minimal') return frame;
    const payloadLength =
      typeof options.payload === 'string' ? Buffer.byteLength(options.payload) : (options.payload?.length ?? 0);
    return withLengthForm(frame, payloadLength, length);
  }

  /** Queues `bytes` behind earlier writes; a bad `chop` throws at once, before anything is queued. */
  write(bytes: Buffer, options: WriteOptions): Promise<void> {
    const chop = options.chop ?? bytes.length;
    if (!Number.isInteger(chop) || chop < 1) throw new RangeError(`chop must be a positive integer, got ${chop}`);
    const delay = options.delay ?? 1;
    return this.enqueue(async () => {
      if (chop >= bytes.length) return this.#writeNow(bytes);
      for (let offset = 0; offset < bytes.length; offset += chop) {
        if (offset > 0 && delay > 0) await sleep(delay);
        await this.#writeNow(bytes.subarray(offset, offset + chop));
      }
    });
  }

  /** Runs writes one after the other, so a chopped send is never interleaved with the next. */
  enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(task);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  #maskFor(mask: Uint8Array | boolean | undefined): Uint8Array | undefined {
    if (mask instanceof Uint8Array) return mask;
    if (mask === false) return undefined;
    if (mask === true || this.#maskByDefault) return this.#maskKey ?? Uint8Array.from(this.#maskKeySource());
    return undefined;
  }

  #writeNow(bytes: Buffer): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) {
      // The other side may legitimately have failed the connection already; the transcript
      // says what was not sent instead of the test crashing on EPIPE.
      this.#transcript.event(`not sent, the connection is closed: ${bytes.length} bytes`);
      return Promise.resolve();
    }
    this.#transcript.sent(bytes);
    return new Promise((resolve) => socket.write(bytes, () => resolve()));
  }
}

/**
 * A close frame body built without validation. The core's encoder refuses codes that must not
 * be sent; a conformance test sends exactly those.
 */
export function closeBody(code: number | undefined, reason: string | Uint8Array): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new RangeError(`A close code is 0-65535, got ${code}`);
  const reasonBytes = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : Buffer.from(reason);
  const body = Buffer.alloc(2 + reasonBytes.length);
  body.writeUInt16BE(code, 0);
  reasonBytes.copy(body, 2);
  return body;
}

/** Re-encodes the length of a minimally encoded frame in the 16- or 64-bit extended form. */
function withLengthForm(frame: Buffer, payloadLength: number, form: '16' | '64'): Buffer {
  if (form === '16' && payloadLength > 0xffff) throw new RangeError('A 16-bit length holds at most 65535 bytes');
  const masked = (frame[1]! & 0x80) !== 0;
  // Masking key (if any) and payload follow the minimal header unchanged.
  const rest = frame.subarray(headerLengthFor(payloadLength));
  const lengthBytes = form === '16' ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes);
  header[0] = frame[0]!;
  header[1] = (masked ? 0x80 : 0) | (form === '16' ? 126 : 127);
  if (form === '16') header.writeUInt16BE(payloadLength, 2);
  else header.writeBigUInt64BE(BigInt(payloadLength), 2);
  return Buffer.concat([header, rest]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
