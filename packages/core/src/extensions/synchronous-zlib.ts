import { Buffer } from 'node:buffer';
import { constants, createDeflateRaw, createInflateRaw } from 'node:zlib';

/**
 * A raw DEFLATE compressor or decompressor from `node:zlib`, driven synchronously.
 *
 * Node offers no public API that is both synchronous and keeps a zlib stream open between
 * calls: `zlib.inflateRawSync` creates and frees an engine per call, and the engine method it
 * runs on (`_processChunk` without a callback) closes the engine when it returns, so it cannot
 * carry an LZ77 window from one message to the next (checked on Node 20: the engine's `_handle`
 * is null after one call). This class therefore runs the same loop as that method, over the
 * same two engine internals it uses, the native handle's `writeSync` and the `_writeState`
 * pair it fills with the input and output space left, but without closing the engine.
 *
 * Synchronous on purpose (see docs/adr/0006): the caller's limit on the output is enforced
 * while zlib writes, so a decompression bomb stops after `maxOutputLength + 1` bytes, before
 * memory is spent; no queue of pending zlib work can grow (at most one call runs, by
 * construction); and messages are processed in the order they arrive.
 *
 * The engine is created on first use and can be closed at any time, so an object that is not
 * processing anything holds no zlib memory once closed.
 */

/** The native handle of a Node zlib engine, as `lib/zlib.js` calls it. */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
}

/** The parts of a `zlib.InflateRaw` / `zlib.DeflateRaw` used here. */
interface ZlibEngine {
  /** Null once the engine is closed, including by Node after zlib reported an error. */
  _handle: ZlibHandle | null;
  /** After each `writeSync`: [output space left, input bytes left]. */
  readonly _writeState: Uint32Array;
  /** The error zlib reported (Node destroys the engine with it). */
  readonly errored: Error | null;
  reset(): void;
  close(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Why `SynchronousZlib.process` returned no output. */
export const ZlibFailureKind = {
  /** The output would be longer than `maxOutputLength`. */
  OutputTooLarge: 'output-too-large',
  /** zlib rejected the input (e.g. "invalid block type"). */
  InvalidData: 'invalid-data',
} as const;

export type ZlibFailureKind = (typeof ZlibFailureKind)[keyof typeof ZlibFailureKind];

export interface ZlibFailure {
  readonly kind: ZlibFailureKind;
  readonly message: string;
}

const EMPTY = Buffer.alloc(0);

/**
 * Where zlib writes before the bytes are copied out at their exact length. One buffer serves
 * every engine in the process: each call copies its output out before returning, and no call
 * can interleave with another.
 */
const SCRATCH_LENGTH = 64 * 1024;
let scratch: Buffer | undefined;
/** The size of the buffers zlib fills directly once output outgrows the scratch (without a budget). */
const LARGE_OUTPUT_CHUNK = 1024 * 1024;

function copyOf(source: Buffer, length: number): Buffer {
  if (length === 0) return EMPTY;
  const copy = Buffer.allocUnsafe(length);
  source.copy(copy, 0, 0, length);
  return copy;
}

/**
 * The engine's own output buffer is never used (output goes to `scratch`), so it is made as
 * small as Node allows (Z_MIN_CHUNK) instead of the default 16 KiB per engine.
 */
const ENGINE_CHUNK_SIZE = 64;

function ignoreError(): void {
  // Node emits the error on the engine on the next tick, after `process` has already read it
  // from `errored`; without a listener that event would crash the process.
}

function adopt(engine: unknown): ZlibEngine {
  const candidate = engine as ZlibEngine;
  if (typeof candidate._handle?.writeSync !== 'function' || !(candidate._writeState instanceof Uint32Array)) {
    throw new Error('node:zlib engines lack the _handle.writeSync/_writeState internals permessage-deflate drives');
  }
  candidate.on('error', ignoreError);
  return candidate;
}

export class SynchronousZlib {
  readonly #create: () => ZlibEngine;
  #engine: ZlibEngine | undefined;
  #ended = false;
  /** Input left when a call stopped at its output budget (zlib may still hold output for it). */
  #pending: { readonly input: Uint8Array; readonly offset: number; readonly length: number } | undefined;

  private constructor(create: () => ZlibEngine) {
    this.#create = create;
  }

  /** A raw inflater with a window of 2^windowBits bytes (8..15). */
  static inflater(windowBits: number): SynchronousZlib {
    return new SynchronousZlib(() => adopt(createInflateRaw({ windowBits, chunkSize: ENGINE_CHUNK_SIZE })));
  }

  /** A raw deflater (windowBits 9..15: zlib's raw deflate cannot use 8). */
  static deflater(windowBits: number, level: number, memLevel: number): SynchronousZlib {
    return new SynchronousZlib(() =>
      adopt(createDeflateRaw({ windowBits, level, memLevel, chunkSize: ENGINE_CHUNK_SIZE })),
    );
  }

  /** Whether an engine is allocated. */
  get isOpen(): boolean {
    return this.#engine !== undefined;
  }

  /**
   * Whether the inflated stream has ended (a block with BFINAL set was read): further input is
   * ignored until `reset()`.
   */
  get streamEnded(): boolean {
    return this.#ended;
  }

  /**
   * Runs `input` through the engine and returns everything zlib produced, or a failure: more
   * than `maxOutputLength` bytes (zlib is never given room for more than one byte past the
   * limit), or input zlib rejects (Node then closes the engine; the next call creates a new one).
   * Past `outputBudget` bytes of output it stops early, keeping the rest of the input for
   * `resume` (see `hasPendingInput`).
   *
   * Every call ends with Z_SYNC_FLUSH: zlib's manual says "all pending output is flushed to the
   * output buffer and the output is aligned on a byte boundary", so a compressed fragment can be
   * sent and a decompressed piece delivered at once; a deflater's output then ends with the
   * empty stored block 00 00 ff ff that RFC 7692 §7.2.1 strips.
   */
  process(input: Uint8Array, maxOutputLength: number, outputBudget = Infinity): Buffer | ZlibFailure {
    if (this.#ended) return EMPTY;
    this.#pending = undefined;
    return this.#run(input, 0, input.length, maxOutputLength, outputBudget);
  }

  /**
   * Whether the last `process` (or `resume`) stopped at its output budget with input left:
   * `resume` produces the rest.
   */
  get hasPendingInput(): boolean {
    return this.#pending !== undefined;
  }

  /** Goes on with the input the last call left at its output budget. */
  resume(maxOutputLength: number, outputBudget = Infinity): Buffer | ZlibFailure {
    const pending = this.#pending;
    if (pending === undefined) return EMPTY;
    this.#pending = undefined;
    return this.#run(pending.input, pending.offset, pending.length, maxOutputLength, outputBudget);
  }

  #run(input: Uint8Array, offset: number, length: number, maxOutputLength: number, outputBudget: number): Buffer | ZlibFailure {
    const engine = (this.#engine ??= this.#create());
    const handle = engine._handle!;
    const state = engine._writeState;
    // zlib writes into `target` from `written` on. Most messages are small: the shared scratch
    // takes them and they are copied out at their exact length. Output that fills the scratch
    // moves to a buffer of its own, big enough for this call's budget, which zlib then fills
    // directly: a message that inflates to megabytes is not copied piece by piece and concatenated.
    let target = (scratch ??= Buffer.allocUnsafeSlow(SCRATCH_LENGTH));
    let written = 0;
    let done: Buffer[] | undefined;
    let total = 0;
    let inputOffset = offset;
    let inputLength = length;
    for (;;) {
      const room = Math.max(1, Math.min(target.length - written, maxOutputLength - total + 1));
      handle.writeSync(constants.Z_SYNC_FLUSH, input, inputOffset, inputLength, target, written, room);
      if (engine._handle === null) {
        this.#engine = undefined;
        return { kind: ZlibFailureKind.InvalidData, message: engine.errored?.message ?? 'zlib failed' };
      }
      const outputLeft = state[0]!;
      const inputLeft = state[1]!;
      const produced = room - outputLeft;
      written += produced;
      total += produced;
      if (total > maxOutputLength) {
        return { kind: ZlibFailureKind.OutputTooLarge, message: `Output exceeds ${maxOutputLength} bytes` };
      }
      if (outputLeft !== 0) {
        // zlib stops with input left and output room only at the end of the stream (inflate
        // returned Z_STREAM_END): the rest of the input is not part of the stream.
        if (inputLeft !== 0) this.#ended = true;
        break;
      }
      // The output space is full: more output may be pending. Go on where zlib stopped, or,
      // past the budget, later: a small input can inflate to megabytes, and the caller bounds
      // the work it does per turn of the event loop.
      inputOffset += inputLength - inputLeft;
      inputLength = inputLeft;
      if (total >= outputBudget) {
        this.#pending = { input, offset: inputOffset, length: inputLength };
        break;
      }
      if (written === target.length) {
        (done ??= []).push(target === scratch ? Buffer.from(target) : target);
        const budgetLeft = outputBudget === Infinity ? LARGE_OUTPUT_CHUNK : outputBudget - total + SCRATCH_LENGTH;
        target = Buffer.allocUnsafe(Math.max(SCRATCH_LENGTH, Math.min(LARGE_OUTPUT_CHUNK, budgetLeft, maxOutputLength - total + 1)));
        written = 0;
      }
    }
    const last = target === scratch ? copyOf(target, written) : target.subarray(0, written);
    if (done === undefined) return last;
    if (written > 0) done.push(last);
    return done.length === 1 ? done[0]! : Buffer.concat(done, total);
  }

  /** Starts a new stream with an empty window, keeping the engine's memory. */
  reset(): void {
    this.#ended = false;
    this.#pending = undefined;
    this.#engine?.reset();
  }

  /** Frees the engine; the next `process` creates a new one. */
  close(): void {
    this.#ended = false;
    this.#pending = undefined;
    this.#engine?.close();
    this.#engine = undefined;
  }
}
