import { Buffer } from 'node:buffer';
import { encodePeerFrame, type LengthForm } from './encode-peer-frame.js';
import type { RandomSource } from './random-source.js';

/** An event the engine must report for a stream the fuzzer built, in this order. */
export type ExpectedEvent =
  | { readonly type: 'message'; readonly data: Buffer; readonly isBinary: boolean }
  | { readonly type: 'ping' | 'pong'; readonly data: Buffer }
  | { readonly type: 'close'; readonly code: number; readonly reason: string };

/** What a correct engine does with a generated (not mutated) stream. */
export interface Expectation {
  /** Every event, in order; a message counts when its last frame has arrived. */
  readonly events: readonly ExpectedEvent[];
  /** The close code the engine fails the connection with after `events`; undefined: it does not fail. */
  readonly failureCode: number | undefined;
}

export interface GeneratedStream {
  readonly bytes: Buffer;
  /** Where each frame starts in `bytes`: mutations aim at headers from here. */
  readonly frameStarts: readonly number[];
  readonly expectation: Expectation;
}

/**
 * Collects the frames of a stream and, beside them, what the engine must report. Once the
 * stream reaches a point after which a correct engine reads nothing (a close frame, a
 * violation, a limit), the expectation is closed: later frames are still written, as junk the
 * engine must ignore, but expect nothing.
 */
export class StreamBuilder {
  readonly #random: RandomSource;
  readonly #masked: boolean;
  readonly #parts: Buffer[] = [];
  readonly #frameStarts: number[] = [];
  readonly #events: ExpectedEvent[] = [];
  #length = 0;
  #failureCode: number | undefined;
  #open = true;

  /** `masked`: frames go to a server, which RFC 6455 §5.1 requires to be masked. */
  constructor(random: RandomSource, masked: boolean) {
    this.#random = random;
    this.#masked = masked;
  }

  get masked(): boolean {
    return this.#masked;
  }

  /** Whether events are still expected. */
  get open(): boolean {
    return this.#open;
  }

  get length(): number {
    return this.#length;
  }

  /** A masking key as a client would choose it, sometimes all zero (still a valid key). */
  maskKey(): Buffer {
    return this.#random.chance(0.1) ? Buffer.alloc(4) : this.#random.fill(Buffer.allocUnsafe(4));
  }

  /** Appends a frame, masked when the stream goes to a server unless `masked` says otherwise. */
  frame(
    fin: boolean,
    rsv: number,
    opcode: number,
    payload: Uint8Array,
    options: { lengthForm?: LengthForm; masked?: boolean } = {},
  ): void {
    const masked = options.masked ?? this.#masked;
    this.raw(
      encodePeerFrame({
        fin,
        rsv,
        opcode,
        payload,
        maskKey: masked ? this.maskKey() : undefined,
        lengthForm: options.lengthForm,
      }),
    );
  }

  /** Appends bytes that start a frame (or are junk where one would start). */
  raw(bytes: Buffer): void {
    this.#frameStarts.push(this.#length);
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  expect(event: ExpectedEvent): void {
    if (this.#open) this.#events.push(event);
  }

  /** From here the engine must have failed the connection with `closeCode`. */
  fail(closeCode: number): void {
    if (!this.#open) return;
    this.#failureCode = closeCode;
    this.#open = false;
  }

  /** From here the engine reads nothing (its peer's close frame arrived). */
  end(): void {
    this.#open = false;
  }

  build(): GeneratedStream {
    return {
      bytes: Buffer.concat(this.#parts, this.#length),
      frameStarts: this.#frameStarts,
      expectation: { events: this.#events, failureCode: this.#failureCode },
    };
  }
}
