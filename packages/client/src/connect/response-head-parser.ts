import { Buffer } from 'node:buffer';
import { HandshakeError } from '@ws/core';
import { parseResponseHead, type ResponseHead } from './parse-response-head.js';

/**
 * Most bytes read before the final response head ends, interim responses included: Node's own
 * default for `--max-http-header-size`. RFC 7230 §3.2.5: "HTTP does not place a predefined
 * limit on the length of each header field or on the length of the header section as a whole";
 * without one, a server that never ends its head would make the client buffer it all.
 */
export const MAX_RESPONSE_HEAD_SIZE = 16 * 1024;

/**
 * Most interim (1xx) responses skipped before the final one. A real server sends one
 * `100 Continue` or a few `103 Early Hints`; each costs a parse, so an endless stream of them
 * fails once past this instead of keeping the client busy until `handshakeTimeout`.
 */
export const MAX_INTERIM_RESPONSES = 16;

export interface ResponseHeadLimits {
  readonly maxSize?: number;
  readonly maxInterimResponses?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const MIN_STORAGE = 256;
const EMPTY = Buffer.alloc(0);

/**
 * Reads the final response head from the chunks of a byte stream, skipping interim (1xx)
 * responses, sans I/O: `push` each chunk until it returns the head. Every byte is scanned once;
 * a head that lies inside one chunk is parsed where it is, and only a head split over chunks is
 * copied, into one buffer that doubles up to `maxSize` — so a server that trickles its answer
 * byte by byte costs at most `maxSize` bytes held and copies amortised to two per byte, not a
 * buffer per chunk or a re-copy of everything per byte.
 */
export class ResponseHeadParser {
  readonly #maxSize: number;
  readonly #maxInterimResponses: number;
  /** The part of the current head read so far, when it spans chunks: `#stored` bytes. */
  #storage: Buffer = EMPTY;
  #stored = 0;
  /** Bytes of the answer scanned so far, every interim response and the current head. */
  #scanned = 0;
  /** Bytes of the current line before the chunk being scanned, and the last of them. */
  #lineLength = 0;
  #lastByte = -1;
  #interimResponses = 0;
  #done = false;

  constructor(limits: ResponseHeadLimits = {}) {
    this.#maxSize = limits.maxSize ?? MAX_RESPONSE_HEAD_SIZE;
    this.#maxInterimResponses = limits.maxInterimResponses ?? MAX_INTERIM_RESPONSES;
  }

  /** Bytes this parser holds on to (the capacity of its copy of a split head). */
  get retainedBytes(): number {
    return this.#storage.length;
  }

  /** Interim responses skipped so far. */
  get interimResponses(): number {
    return this.#interimResponses;
  }

  /**
   * Takes the next chunk; returns the final head once it is complete (its `rest` a view of the
   * bytes after it in this chunk), `undefined` while more bytes are needed. Throws a
   * `HandshakeError` for a malformed head, an answer larger than `maxSize`, or more than
   * `maxInterimResponses` interim responses.
   */
  push(chunk: Buffer): ResponseHead | undefined {
    if (this.#done) throw new Error('The response head was already read');
    let offset = 0;
    while (offset < chunk.length) {
      const end = this.#scan(chunk, offset);
      if (end === -1) {
        this.#store(chunk, offset, chunk.length);
        return undefined;
      }
      let head = chunk.subarray(offset, end);
      if (this.#stored > 0) {
        this.#store(chunk, offset, end);
        head = this.#storage.subarray(0, this.#stored);
      }
      // The text stops before the empty line and the line end in front of it.
      const textLength = Math.max(0, head.length - 2 - this.#lineLength);
      const response = parseResponseHead(head.toString('latin1', 0, textLength), chunk.subarray(end));
      this.#stored = 0;
      this.#lineLength = 0;
      this.#lastByte = -1;
      offset = end;
      // RFC 7231 §6.2: "A client MUST be able to parse one or more 1xx responses received prior
      // to a final response, even if the client does not expect one. A user agent MAY ignore
      // unexpected 1xx responses." 101 is the final one here.
      if (response.statusCode < 100 || response.statusCode >= 200 || response.statusCode === 101) {
        this.#done = true;
        this.#storage = EMPTY;
        return response;
      }
      if (++this.#interimResponses > this.#maxInterimResponses) {
        throw new HandshakeError(
          'WS_ERR_HANDSHAKE_STATUS',
          `More than ${this.#maxInterimResponses} interim responses before the handshake response`,
        );
      }
    }
    return undefined;
  }

  /**
   * Scans `chunk` from `from` for the end of the current head, within what is left of the size
   * budget. Returns the index after the head's last byte, or -1 (having scanned to the end of
   * the chunk). Leaves `#lineLength` at the length of the head's empty last line (0, or 1 for
   * its CR). RFC 7230 §3.5: "a recipient MAY recognize a single LF as a line terminator and
   * ignore any preceding CR", so "\n\n" ends a head as well as "\r\n\r\n".
   */
  #scan(chunk: Buffer, from: number): number {
    const budgetEnd = from + (this.#maxSize - this.#scanned);
    const limit = Math.min(chunk.length, budgetEnd);
    let lineLength = this.#lineLength;
    let lastByte = this.#lastByte;
    let position = from;
    for (;;) {
      const lineEnd = chunk.indexOf(LF, position);
      if (lineEnd === -1 || lineEnd >= limit) {
        if (limit < chunk.length) throw this.#tooLarge();
        if (limit > position) {
          lineLength += limit - position;
          lastByte = chunk[limit - 1]!;
        }
        this.#scanned += limit - from;
        this.#lineLength = lineLength;
        this.#lastByte = lastByte;
        return -1;
      }
      if (lineEnd > position) {
        lineLength += lineEnd - position;
        lastByte = chunk[lineEnd - 1]!;
      }
      if (lineLength === 0 || (lineLength === 1 && lastByte === CR)) {
        this.#scanned += lineEnd + 1 - from;
        this.#lineLength = lineLength;
        return lineEnd + 1;
      }
      lineLength = 0;
      lastByte = LF;
      position = lineEnd + 1;
    }
  }

  /** Appends `chunk[from, to)` to the copy of the current head; the budget bounds its size. */
  #store(chunk: Buffer, from: number, to: number): void {
    const needed = this.#stored + (to - from);
    if (needed > this.#storage.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#maxSize, Math.max(MIN_STORAGE, needed, this.#storage.length * 2)));
      this.#storage.copy(grown, 0, 0, this.#stored);
      this.#storage = grown;
    }
    chunk.copy(this.#storage, this.#stored, from, to);
    this.#stored = needed;
  }

  #tooLarge(): HandshakeError {
    return new HandshakeError(
      'WS_ERR_HANDSHAKE_STATUS',
      `The handshake response head exceeds ${this.#maxSize} bytes (interim responses included)`,
    );
  }
}
