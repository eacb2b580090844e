import type { Buffer } from 'node:buffer';
import { FrameReader, type ReceivedFrame } from './frame-reader.js';

/** What `ScriptedPeer.nextEvent` reports; it never throws. */
export type PeerEvent =
  | { readonly type: 'frame'; readonly frame: ReceivedFrame }
  | { readonly type: 'eof' }
  | { readonly type: 'malformed'; readonly description: string }
  | { readonly type: 'timeout' };

/**
 * The receiving half of a scripted peer: decodes incoming bytes into frames, keeps them until
 * an expectation takes them, and lets a waiting expectation sleep until something arrives —
 * a frame, the end of the stream, undecodable bytes — or its time runs out.
 */
export class FrameInbox {
  readonly #reader = new FrameReader();
  readonly #decodeFrames: boolean;
  readonly #frames: ReceivedFrame[] = [];
  readonly #wakers = new Set<() => void>();
  #ended = false;
  #closed = false;

  /** With `decodeFrames` false, bytes are ignored: the handshake did not switch protocols. */
  constructor(decodeFrames: boolean) {
    this.#decodeFrames = decodeFrames;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pendingFrames(): number {
    return this.#frames.length;
  }

  /** Whether the start of a frame has arrived and its end has not. */
  get inFrame(): boolean {
    return this.#reader.inFrame;
  }

  receive(chunk: Buffer): void {
    if (!this.#decodeFrames) return;
    const frames = this.#reader.push(chunk);
    if (frames.length > 0) this.#frames.push(...frames);
    if (frames.length > 0 || this.#reader.error !== undefined) this.#wake();
  }

  /** The other side ended its stream, or the stream failed: nothing more will arrive. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** The connection is closed in both directions. */
  close(): void {
    this.#ended = true;
    this.#closed = true;
    this.#wake();
  }

  /** The next frame, the end of the stream, a decoding failure, or a timeout after `ms`. */
  async next(ms: number): Promise<PeerEvent> {
    const deadline = performance.now() + ms;
    for (;;) {
      const frame = this.#frames.shift();
      if (frame !== undefined) return { type: 'frame', frame };
      if (this.#reader.error !== undefined) return { type: 'malformed', description: this.#reader.error };
      if (this.#ended) return { type: 'eof' };
      const remaining = deadline - performance.now();
      if (remaining <= 0) return { type: 'timeout' };
      await this.#changed(remaining);
    }
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  /** Resolves when something arrives or after `ms`, whichever is first. */
  #changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }
}
