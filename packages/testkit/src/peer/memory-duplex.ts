import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';

/**
 * One end of an in-memory connection: what is written to it is read from the other end, in
 * order, each chunk copied (as a socket would deliver fresh buffers; decoders unmask in place).
 * `end()` is a half-close the other end reads as EOF; `destroy()` drops the connection and
 * destroys the other end too, which is how a reset looks without a network.
 */
export class MemoryDuplex extends Duplex {
  #partner: MemoryDuplex | undefined;

  constructor() {
    // TCP keeps the writable side open after the peer's FIN; a scripted peer relies on that
    // to test half-close.
    super({ allowHalfOpen: true });
  }

  /** Pairs two ends; called once by {@link createMemoryDuplexPair}. */
  connect(partner: MemoryDuplex): void {
    this.#partner = partner;
  }

  /** Sockets have it; a memory connection has no Nagle delay to turn off. */
  setNoDelay(): this {
    return this;
  }

  override _read(): void {
    // Data is pushed by the partner's writes; there is nothing to pull.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const partner = this.#partner;
    if (partner === undefined || partner.destroyed || partner.readableEnded) {
      callback(Object.assign(new Error('write EPIPE: the other end is closed'), { code: 'EPIPE' }));
      return;
    }
    partner.push(Buffer.from(chunk));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const partner = this.#partner;
    if (partner !== undefined && !partner.destroyed) partner.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const partner = this.#partner;
    if (partner !== undefined && !partner.destroyed) partner.destroy();
    callback(error);
  }
}

/**
 * Two connected in-memory duplex streams, for unit tests of anything that speaks over a Node
 * Duplex (a protocol binding, a scripted peer) without opening a socket.
 */
export function createMemoryDuplexPair(): [MemoryDuplex, MemoryDuplex] {
  const left = new MemoryDuplex();
  const right = new MemoryDuplex();
  left.connect(right);
  right.connect(left);
  return [left, right];
}
