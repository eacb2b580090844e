import { Buffer } from 'node:buffer';

/** Pieces smaller than this are copied together instead of being kept as separate views. */
const SMALL_PIECE = 4 * 1024;
const TAIL_SIZE = 16 * 1024;

/**
 * Collects the pieces of a message that did not arrive as one view. Large pieces are kept as
 * views (no copy until the final concatenation); small ones, however many, are copied into a
 * shared tail buffer, so a message sent as thousands of tiny fragments costs its bytes, not
 * thousands of objects.
 */
export class MessageAssembler {
  #parts: Buffer[] = [];
  #byteLength = 0;
  #tail: Buffer | undefined;
  #tailFilled = 0;

  get byteLength(): number {
    return this.#byteLength;
  }

  get isEmpty(): boolean {
    return this.#byteLength === 0 && this.#parts.length === 0;
  }

  append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#byteLength += piece.length;
    if (piece.length >= SMALL_PIECE) {
      this.#sealTail();
      this.#parts.push(piece);
      return;
    }
    if (this.#tail === undefined || this.#tailFilled + piece.length > this.#tail.length) {
      this.#sealTail();
      this.#tail = Buffer.allocUnsafe(TAIL_SIZE);
    }
    piece.copy(this.#tail, this.#tailFilled);
    this.#tailFilled += piece.length;
  }

  /** The assembled message; the assembler is empty afterwards. */
  take(): Buffer {
    this.#sealTail();
    const parts = this.#parts;
    const message = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#byteLength);
    this.clear();
    return message;
  }

  clear(): void {
    this.#parts = [];
    this.#byteLength = 0;
    this.#tail = undefined;
    this.#tailFilled = 0;
  }

  #sealTail(): void {
    if (this.#tail === undefined || this.#tailFilled === 0) return;
    this.#parts.push(this.#tail.subarray(0, this.#tailFilled));
    this.#tail = undefined;
    this.#tailFilled = 0;
  }
}
