import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { Opcode } from '@ws/core';
import { maskedFrame } from './raw-peer.js';

/**
 * A window of masked binary frames of `size` bytes kept in flight on WebSocket transports (TCP
 * sockets, HTTP/2 streams): what the Node load generators write, counting echoes by their length
 * (a server's frame of `size` bytes, unmasked) rather than parsing them.
 */
export class EchoWindow {
  readonly #frame: Buffer;
  readonly #burst: Buffer;
  readonly #window: number;
  readonly #replyLength: number;
  running = true;

  constructor(size: number, window: number) {
    this.#frame = maskedFrame({ opcode: Opcode.Binary, payload: Buffer.alloc(size, 0x61) });
    this.#burst = Buffer.concat(Array.from({ length: window }, () => this.#frame));
    this.#window = window;
    this.#replyLength = (size <= 125 ? 2 : size <= 0xffff ? 4 : 10) + size;
  }

  /**
   * Fills `transport`'s window and refills it as echoes come back, one write per read: one
   * frame per reply, as many as came back (none once `running` is false). `onReplies` hears of
   * every read that completed at least one echo.
   */
  drive(transport: Duplex, onReplies: (count: number) => void): void {
    let pendingBytes = 0;
    transport.on('data', (chunk: Buffer) => {
      pendingBytes += chunk.length;
      const replies = Math.floor(pendingBytes / this.#replyLength);
      if (replies === 0) return;
      pendingBytes -= replies * this.#replyLength;
      onReplies(replies);
      if (!this.running) return;
      transport.write(replies === this.#window ? this.#burst : this.#burst.subarray(0, replies * this.#frame.length));
    });
    transport.write(this.#burst);
  }
}
