import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';

/**
 * A Duplex standing in for a TCP socket whose writes complete only when the test says so: the
 * test sees exactly what was handed to the "kernel" and in which order, and decides when the
 * socket drains. Bytes from the peer are injected with `receive`.
 */
export class ControlledSocket extends Duplex {
  /** Every chunk handed to the transport, in order. */
  readonly written: Buffer[] = [];
  #pending: (() => void)[] = [];
  remoteAddress = '192.0.2.1';
  remotePort = 40_000;

  constructor(highWaterMark = 1024) {
    super({ writableHighWaterMark: highWaterMark, allowHalfOpen: true });
  }

  /** Records what is handed to the socket, in order, whether or not the transport is busy. */
  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    this.written.push(Buffer.from(chunk as Uint8Array));
    return super.write(chunk, encoding as BufferEncoding, callback as (error?: Error | null) => void);
  }

  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pending.push(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  override _read(): void {
    // Data is pushed by `receive`.
  }

  /** Completes writes until the socket drains once (the writer may then hand over more). */
  completeWrites(): void {
    let drained = false;
    const onDrain = (): void => {
      drained = true;
    };
    this.once('drain', onDrain);
    while (!drained && this.#pending.length > 0) this.#pending.shift()!();
    this.off('drain', onDrain);
  }

  /** Completes writes until nothing more is handed over. */
  drainAll(): void {
    while (this.#pending.length > 0) this.#pending.shift()!();
  }

  receive(bytes: Buffer): void {
    this.push(bytes);
  }

  /** Everything written, as one buffer. */
  bytes(): Buffer {
    return Buffer.concat(this.written);
  }
}
