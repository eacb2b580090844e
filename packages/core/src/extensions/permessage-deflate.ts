import { Buffer } from 'node:buffer';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { ProtocolError } from '../errors/protocol-error.js';
import { RSV1_BIT } from '../frames/frame-header.js';
import type { Extension } from './extension.js';
import { SynchronousZlib, type ZlibFailure, ZlibFailureKind } from './synchronous-zlib.js';

/**
 * Messages shorter than this are sent uncompressed. Below about 1 KiB, DEFLATE saves a few
 * hundred bytes at most while a message already fits one TCP segment (MSS about 1460 bytes),
 * so the bytes saved rarely save a packet, and the fixed cost of a zlib call dominates. `ws`
 * uses the same default, which keeps the two comparable.
 */
export const DEFAULT_DEFLATE_THRESHOLD = 1024;
/**
 * zlib level 1 ("best speed"). On JSON-like text it takes about a third of level 6's time for
 * messages of 16 KiB and more, for output 5-16% larger (measurements in docs/adr/0006); a
 * server compressing for many connections runs out of CPU before bandwidth. Raise it where
 * bandwidth is what matters.
 */
export const DEFAULT_DEFLATE_LEVEL = 1;
/** zlib's own default: 2^(8+7) hash entries, about 256 KiB of deflate state with a 15-bit window. */
export const DEFAULT_DEFLATE_MEM_LEVEL = 8;
/** RFC 7692 §7.1.2.1: an LZ77 sliding window "of up to 32,768 bytes" when no limit is agreed. */
export const MAX_DEFLATE_WINDOW_BITS = 15;
/** RFC 7692 §7.1.2.1: window bits are "between 8 to 15, inclusive". */
export const MIN_DEFLATE_WINDOW_BITS = 8;

/** How a compressor is configured; what `compressMessage` shares a deflater by. */
export interface DeflateSettings {
  /** The LZ77 window, 2^windowBits bytes: 9..15 (zlib's raw deflate cannot use 8). */
  readonly windowBits: number;
  /** zlib compression level, 0 (store) to 9 (smallest). */
  readonly level: number;
  /** zlib memory level, 1..9. */
  readonly memLevel: number;
}

/**
 * The agreed parameters of RFC 7692 §7 seen from one endpoint ("compress" is what this
 * endpoint sends, "decompress" what it receives), plus local compression settings. The
 * negotiation functions build them; a server maps `server_*` to compress and `client_*` to
 * decompress, a client the other way round.
 */
export interface PerMessageDeflateParameters {
  /** Our side's `*_no_context_takeover`: every message is compressed with an empty window. Default false. */
  readonly compressNoContextTakeover?: boolean;
  /** The peer's `*_no_context_takeover`: its messages never refer to an earlier one. Default false. */
  readonly decompressNoContextTakeover?: boolean;
  /**
   * Our side's `*_max_window_bits`, 8..15. Default 15. zlib cannot compress with an 8-bit window
   * (it silently uses 9, which a peer keeping 256 bytes could not decode), so with 8 every
   * message is sent uncompressed, which RFC 7692 permits for any message.
   */
  readonly compressMaxWindowBits?: number;
  /** The peer's `*_max_window_bits`, 8..15. Default 15. */
  readonly decompressMaxWindowBits?: number;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  readonly threshold?: number;
  /** zlib compression level 0..9. Default 1. */
  readonly level?: number;
  /** zlib memory level 1..9. Default 8. */
  readonly memLevel?: number;
}

/**
 * RFC 7692 §7.2.1 step 3 and §7.2.2 step 1: the 4 octets "0x00 0x00 0xff 0xff" that end an
 * empty stored block, removed by the sender and appended by the receiver.
 */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY_OUTPUT = Buffer.alloc(0);
/**
 * The first octet of an empty stored block (BFINAL 0, BTYPE 00, padding): what a message whose
 * compressed bytes were all sent in earlier fragments ends with, so that the receiver's
 * appended TAIL completes a block instead of starting a stored block's length field.
 */
const STORED_BLOCK_START = 0x00;

const sharedDeflaters = new Map<string, SynchronousZlib>();
const sharedInflaters = new Map<number, SynchronousZlib>();

/**
 * One deflater per settings for the whole process, used for whole messages compressed without
 * context takeover: each use starts from a reset engine and resets it again, so any number of
 * connections share it and an idle connection holds no deflate memory.
 */
function sharedDeflater(settings: DeflateSettings): SynchronousZlib {
  const key = `${settings.windowBits}:${settings.level}:${settings.memLevel}`;
  let deflater = sharedDeflaters.get(key);
  if (deflater === undefined) {
    deflater = SynchronousZlib.deflater(settings.windowBits, settings.level, settings.memLevel);
    sharedDeflaters.set(key, deflater);
  }
  return deflater;
}

/** The inflater counterpart, for whole messages from a peer without context takeover. */
function sharedInflater(windowBits: number): SynchronousZlib {
  let inflater = sharedInflaters.get(windowBits);
  if (inflater === undefined) {
    inflater = SynchronousZlib.inflater(windowBits);
    sharedInflaters.set(windowBits, inflater);
  }
  return inflater;
}

function deflate(deflater: SynchronousZlib, data: Uint8Array): Buffer {
  const output = deflater.process(data, Infinity);
  if (!Buffer.isBuffer(output)) throw new Error(`Compression failed: ${output.message}`);
  return output;
}

/**
 * RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end. After
 * this step, the last octet of the compressed data contains (possibly part of) the DEFLATE
 * header bits with the "BTYPE" bits set to 00." Z_SYNC_FLUSH output always ends with those 4
 * octets, except when nothing was left to flush because the previous fragment already ended
 * with them; the message then ends with the start of one more empty stored block.
 */
function endOfMessage(output: Buffer): Buffer {
  const length = output.length;
  if (length >= 4 && output[length - 4] === 0x00 && output[length - 3] === 0x00 && output[length - 2] === 0xff && output[length - 1] === 0xff) {
    return output.subarray(0, length - 4);
  }
  return length === 0 ? Buffer.from([STORED_BLOCK_START]) : output;
}

function checkInteger(value: number, min: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, not ${value}`);
  }
  return value;
}

function checkDeflateSettings(settings: DeflateSettings): void {
  checkInteger(settings.windowBits, MIN_DEFLATE_WINDOW_BITS + 1, MAX_DEFLATE_WINDOW_BITS, 'windowBits');
  checkInteger(settings.level, 0, 9, 'level');
  checkInteger(settings.memLevel, 1, 9, 'memLevel');
}

/**
 * Compresses a whole message as RFC 7692 §7.2.1 says, with an empty LZ77 window, and returns
 * the payload of a message with RSV1 set. It runs on the process-wide deflater for `settings`,
 * so a broadcast is compressed once for every recipient whose extension reports the same
 * `sharedCompressionSettings`. Only such recipients may get it: a connection that compresses
 * with context takeover has a peer whose window must hold exactly what that connection's own
 * deflater sent.
 */
export function compressMessage(data: Uint8Array, settings: DeflateSettings): Buffer {
  checkDeflateSettings(settings);
  return compressWhole(data, settings);
}

function compressWhole(data: Uint8Array, settings: DeflateSettings): Buffer {
  const deflater = sharedDeflater(settings);
  try {
    return endOfMessage(deflate(deflater, data));
  } finally {
    deflater.reset();
  }
}

/**
 * The permessage-deflate extension of RFC 7692 for one connection, with its agreed parameters.
 * Build it with `acceptPerMessageDeflate` (server) or `acceptPerMessageDeflateResponse`
 * (client) and pass it to the protocol's `extensions`; call `dispose()` when the connection
 * is gone.
 *
 * Decoding and encoding are synchronous (docs/adr/0006): the protocol's remaining message
 * budget is enforced while zlib inflates, so a decompression bomb fails with 1009 after at most
 * one byte past the budget, and no queue of zlib work can build up.
 *
 * Memory: with context takeover a side keeps its zlib engine from its first compressed message
 * until `dispose()`. Without it (the server default for what it sends), nothing is kept between
 * messages: a message handled in one call uses a process-wide engine, and one that spans calls
 * (fragments, or a frame split across reads) gets an engine for its duration only.
 */
export class PerMessageDeflate implements Extension {
  readonly name = 'permessage-deflate';
  /** RFC 7692 §6: the "Per-Message Compressed" bit is RSV1. */
  readonly rsvBits = RSV1_BIT;
  /** The agreed parameters and settings, defaults filled in. */
  readonly parameters: Readonly<Required<PerMessageDeflateParameters>>;

  /** Undefined when messages are never compressed (an 8-bit window was agreed for our side). */
  readonly #compression: DeflateSettings | undefined;
  readonly #inflateWindowBits: number;
  /** This connection's engines: kept between messages with context takeover, else per message. */
  readonly #inflater: SynchronousZlib;
  readonly #deflater: SynchronousZlib | undefined;
  /** The engine of the message being received or sent, while it spans calls. */
  #inflating: SynchronousZlib | undefined;
  #deflating: SynchronousZlib | undefined;
  /** While a piece's inflation stopped at its budget: whether that piece ends its message. */
  #pendingMessageEnd: boolean | undefined;

  constructor(parameters: PerMessageDeflateParameters = {}) {
    const agreed = {
      compressNoContextTakeover: parameters.compressNoContextTakeover ?? false,
      decompressNoContextTakeover: parameters.decompressNoContextTakeover ?? false,
      compressMaxWindowBits: checkInteger(
        parameters.compressMaxWindowBits ?? MAX_DEFLATE_WINDOW_BITS,
        MIN_DEFLATE_WINDOW_BITS,
        MAX_DEFLATE_WINDOW_BITS,
        'compressMaxWindowBits',
      ),
      decompressMaxWindowBits: checkInteger(
        parameters.decompressMaxWindowBits ?? MAX_DEFLATE_WINDOW_BITS,
        MIN_DEFLATE_WINDOW_BITS,
        MAX_DEFLATE_WINDOW_BITS,
        'decompressMaxWindowBits',
      ),
      threshold: checkInteger(parameters.threshold ?? DEFAULT_DEFLATE_THRESHOLD, 0, Number.MAX_SAFE_INTEGER, 'threshold'),
      level: checkInteger(parameters.level ?? DEFAULT_DEFLATE_LEVEL, 0, 9, 'level'),
      memLevel: checkInteger(parameters.memLevel ?? DEFAULT_DEFLATE_MEM_LEVEL, 1, 9, 'memLevel'),
    };
    this.parameters = Object.freeze(agreed);
    // A window at least as large as the peer's decodes its data. 8 is raised to 9 because a
    // zlib-based peer told to use 8 silently compresses with 9 (zlib's raw deflate cannot do 8),
    // and 256 bytes more are cheap next to failing its messages.
    this.#inflateWindowBits = Math.max(agreed.decompressMaxWindowBits, MIN_DEFLATE_WINDOW_BITS + 1);
    this.#inflater = SynchronousZlib.inflater(this.#inflateWindowBits);
    if (agreed.compressMaxWindowBits > MIN_DEFLATE_WINDOW_BITS) {
      this.#compression = { windowBits: agreed.compressMaxWindowBits, level: agreed.level, memLevel: agreed.memLevel };
      this.#deflater = SynchronousZlib.deflater(agreed.compressMaxWindowBits, agreed.level, agreed.memLevel);
    }
  }

  /**
   * The settings to pass to `compressMessage` for a payload that may be sent to this
   * connection as a whole compressed message (RSV1 set, e.g. through `sendRaw`); undefined when
   * this connection compresses with context takeover or never compresses.
   */
  get sharedCompressionSettings(): DeflateSettings | undefined {
    return this.parameters.compressNoContextTakeover ? this.#compression : undefined;
  }

  /** Whether this connection holds a zlib engine now (for memory accounting and tests). */
  get holdsZlibMemory(): boolean {
    return this.#inflater.isOpen || this.#deflater?.isOpen === true;
  }

  shouldEncode(byteLength: number): boolean {
    return this.#compression !== undefined && byteLength >= this.parameters.threshold;
  }

  /**
   * RFC 7692 §7.2.2: "1. Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload
   * of the message. 2. Decompress the resulting data using DEFLATE." Each piece is inflated as
   * it arrives (so text can be validated and delivered early), the 4 octets after the last one.
   */
  decode(piece: Uint8Array, messageEnd: boolean, maxOutputLength: number, outputBudget = Infinity): Uint8Array | ProtocolError {
    let inflater = this.#inflating;
    if (inflater === undefined) {
      // RFC 7692 §7.2.2: with the peer's no_context_takeover "the server MAY decompress each new
      // message with an empty LZ77 sliding window. Otherwise, the server MUST decompress each new
      // message using the LZ77 sliding window used to process the last compressed message."
      // (and the same for a client with server_no_context_takeover). The engine shared between
      // connections serves only a message decoded in one step: one that stops at its budget
      // keeps its state in an engine of its own.
      inflater =
        messageEnd && this.parameters.decompressNoContextTakeover && outputBudget === Infinity
          ? sharedInflater(this.#inflateWindowBits)
          : this.#inflater;
    }
    const output = inflater.process(piece, maxOutputLength, outputBudget);
    return this.#afterInflate(inflater, output, messageEnd, maxOutputLength);
  }

  get decodePending(): boolean {
    return this.#pendingMessageEnd !== undefined;
  }

  decodeMore(maxOutputLength: number, outputBudget = Infinity): Uint8Array | ProtocolError {
    const inflater = this.#inflating;
    const messageEnd = this.#pendingMessageEnd;
    if (inflater === undefined || messageEnd === undefined) return EMPTY_OUTPUT;
    this.#pendingMessageEnd = undefined;
    return this.#afterInflate(inflater, inflater.resume(maxOutputLength, outputBudget), messageEnd, maxOutputLength);
  }

  #afterInflate(
    inflater: SynchronousZlib,
    output: Buffer | ZlibFailure,
    messageEnd: boolean,
    maxOutputLength: number,
  ): Uint8Array | ProtocolError {
    if (!Buffer.isBuffer(output)) return this.#decodeFailed(inflater, output);
    if (inflater.hasPendingInput) {
      this.#inflating = inflater;
      this.#pendingMessageEnd = messageEnd;
      return output;
    }
    if (!messageEnd) {
      this.#inflating = inflater;
      return output;
    }
    this.#inflating = undefined;
    const last = inflater.process(TAIL, maxOutputLength - output.length);
    if (!Buffer.isBuffer(last)) return this.#decodeFailed(inflater, last);
    if (inflater !== this.#inflater) {
      // The shared engine is left with an empty window for the next message it serves.
      inflater.reset();
    } else if (this.parameters.decompressNoContextTakeover) {
      inflater.close();
    } else if (inflater.streamEnded) {
      // A stream that ended (a block with BFINAL set, as in RFC 7692 §7.2.3.4) cannot go on:
      // the peer's next message starts a new one.
      inflater.reset();
    }
    if (last.length === 0) return output;
    return output.length === 0 ? last : Buffer.concat([output, last]);
  }

  #decodeFailed(inflater: SynchronousZlib, failure: ZlibFailure): ProtocolError {
    this.#inflating = undefined;
    this.#pendingMessageEnd = undefined;
    if (inflater === this.#inflater) inflater.close();
    else inflater.reset();
    if (failure.kind === ZlibFailureKind.OutputTooLarge) {
      return new ProtocolError('WS_ERR_MESSAGE_TOO_BIG', `Inflated message exceeds maxMessageSize (${failure.message})`);
    }
    return new ProtocolError('WS_ERR_INVALID_COMPRESSED_DATA', `Invalid compressed data: ${failure.message}`);
  }

  /**
   * RFC 7692 §7.2.1 for one fragment: every fragment is compressed with Z_SYNC_FLUSH, so it can
   * be sent at once and ends on a byte boundary; the 4 octets 00 00 ff ff are removed from the
   * message's last fragment only: the fragments together carry the compressed message, cut
   * anywhere (§7.2.3.1 cuts "Hello" after its third compressed octet).
   */
  encode(data: Uint8Array, messageEnd: boolean): Uint8Array {
    const settings = this.#compression;
    if (settings === undefined) {
      throw new InvalidStateError('Messages are not compressed with an 8-bit window; shouldEncode is false', 'encode');
    }
    const noContextTakeover = this.parameters.compressNoContextTakeover;
    let deflater = this.#deflating;
    if (deflater === undefined) {
      // RFC 7692 §7.2.1: with our side's no_context_takeover, the endpoint "MUST start
      // compressing each new message with an empty LZ77 sliding window".
      if (messageEnd && noContextTakeover) return compressWhole(data, settings);
      deflater = this.#deflater!;
    }
    const output = deflate(deflater, data);
    if (!messageEnd) {
      this.#deflating = deflater;
      return output;
    }
    this.#deflating = undefined;
    if (noContextTakeover) deflater.close();
    return endOfMessage(output);
  }

  /** Frees this connection's zlib engines (the connection is gone). */
  dispose(): void {
    this.#inflating = undefined;
    this.#pendingMessageEnd = undefined;
    this.#deflating = undefined;
    this.#inflater.close();
    this.#deflater?.close();
  }
}
