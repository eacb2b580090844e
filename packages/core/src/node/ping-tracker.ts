import { Buffer } from 'node:buffer';
import { PingTimeoutError } from './connection-error.js';

interface PendingPing {
  readonly payload: Buffer;
  readonly sentAt: number;
  readonly resolve: (roundTrip: number) => void;
  readonly reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The pings `ping()` sent and still waits for, oldest first. A ping carries a 4-byte sequence
 * number unless the caller gives a payload; a pong answers the ping whose payload it echoes
 * ("A Pong frame sent in response to a Ping frame must have identical 'Application data'",
 * RFC 6455 §5.5.3) and every earlier one, since a peer that received several pings before it
 * could answer "MAY elect to send a Pong frame for only the most recently processed Ping frame".
 */
export class PingTracker {
  #sequence = 0;
  #pending: PendingPing[] = [];

  /** The payload of the next ping: `data`, or the next sequence number. */
  nextPayload(data: Buffer | undefined): Buffer {
    if (data !== undefined) return data;
    this.#sequence = (this.#sequence + 1) >>> 0;
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(this.#sequence);
    return payload;
  }

  /** Waits for the pong answering `payload`; rejects with `PingTimeoutError` after `timeout` ms. */
  track(payload: Buffer, timeout: number | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const pending: PendingPing = { payload, sentAt: performance.now(), resolve, reject, timer: undefined };
      if (timeout !== undefined) {
        pending.timer = setTimeout(() => {
          this.#pending = this.#pending.filter((entry) => entry !== pending);
          reject(new PingTimeoutError(timeout));
        }, timeout);
        pending.timer.unref?.();
      }
      this.#pending.push(pending);
    });
  }

  /** A pong arrived: settles the ping it answers and every earlier one; returns the answered ping's round trip. */
  pongReceived(data: Buffer): number | undefined {
    if (this.#pending.length === 0) return undefined;
    const index = this.#pending.findIndex((entry) => entry.payload.equals(data));
    if (index < 0) return undefined;
    const answered = this.#pending.splice(0, index + 1);
    const now = performance.now();
    for (const entry of answered) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.resolve(now - entry.sentAt);
    }
    return now - answered[index]!.sentAt;
  }

  /** The connection closed: no pong will come. */
  rejectAll(error: Error): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const entry of pending) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(error);
    }
  }
}
