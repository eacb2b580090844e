import { Buffer } from 'node:buffer';
import type { ConnectionClosedError } from '@ws/core';

/**
 * A message read with `connection.messages()`: an async iterable of its payload chunks, in
 * order. In receive mode `stream` the chunks are the pieces as they come off the socket (never
 * assembled, so a message of any size needs no more memory than the inbox's high-water mark);
 * in mode `message` there is one chunk, the whole message.
 */
export interface ReceivedMessage extends AsyncIterable<Buffer> {
  readonly isBinary: boolean;
  /** Reads the rest of the message into one Buffer. */
  bytes(): Promise<Buffer>;
  /** Reads the rest of the message as UTF-8 text. */
  text(): Promise<string>;
}

/** One piece of a message, as the protocol delivered it. */
export interface InboxEntry {
  readonly data: Buffer;
  readonly isBinary: boolean;
  readonly messageStart: boolean;
  readonly messageEnd: boolean;
}

export interface MessageInboxOptions {
  /** Queued bytes above which reading stops; it restarts once the consumer is under half of it. */
  readonly highWaterMark: number;
  readonly pause: () => void;
  readonly resume: () => void;
}

/**
 * The queue between the connection's events and an async-iterator consumer, with backpressure:
 * when the consumer falls behind by more than `highWaterMark` bytes, the socket stops being
 * read, so TCP flow control slows the peer down instead of our memory filling up.
 */
export class MessageInbox {
  readonly #options: MessageInboxOptions;
  #entries: (InboxEntry | undefined)[] = [];
  #head = 0;
  #queuedBytes = 0;
  #paused = false;
  #active = true;
  #closed: ConnectionClosedError | undefined;
  #waiters: (() => void)[] = [];
  /** The message handed out last, and whether its end has been read. */
  #current: InboxMessage | undefined;
  #currentEnded = true;

  constructor(options: MessageInboxOptions) {
    this.#options = options;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** False once the consumer stopped iterating: nothing is queued any more. */
  get isActive(): boolean {
    return this.#active;
  }

  push(entry: InboxEntry): void {
    if (!this.#active || this.#closed !== undefined) return;
    this.#entries.push(entry);
    this.#queuedBytes += entry.data.length;
    if (!this.#paused && this.#queuedBytes > this.#options.highWaterMark) {
      this.#paused = true;
      this.#options.pause();
    }
    this.#wake();
  }

  /** The connection closed: queued messages are still read, then iteration ends. */
  end(error: ConnectionClosedError): void {
    this.#closed = error;
    this.#wake();
  }

  /** The consumer stopped iterating: drop what is queued and read the socket again. */
  cancel(): void {
    this.#active = false;
    this.#entries = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#release();
    this.#wake();
  }

  async *messages(): AsyncGenerator<ReceivedMessage, void, undefined> {
    try {
      for (;;) {
        const message = await this.#nextMessage();
        if (message === undefined) return;
        yield message;
      }
    } finally {
      this.cancel();
    }
  }

  async #nextMessage(): Promise<InboxMessage | undefined> {
    // A message the consumer did not read to its end is skipped, as it arrives.
    while (!this.#currentEnded) {
      const entry = await this.#take();
      if (entry === undefined) return undefined;
      if (entry.messageEnd) this.#currentEnded = true;
    }
    for (;;) {
      const entry = this.#peek();
      if (entry === undefined) {
        if (!this.#active || this.#closed !== undefined) return undefined;
        await this.#wait();
      } else if (!entry.messageStart) {
        // The tail of a message that began before iteration did; it cannot be read whole.
        await this.#take();
      } else {
        this.#current = new InboxMessage(this, entry.isBinary);
        this.#currentEnded = false;
        return this.#current;
      }
    }
  }

  /** The next chunk of `message`; undefined at its end. Throws when the connection closed mid-message. */
  async nextChunk(message: InboxMessage): Promise<Buffer | undefined> {
    if (message !== this.#current || this.#currentEnded) return undefined;
    const entry = await this.#take();
    if (entry === undefined) {
      if (this.#closed !== undefined) throw this.#closed;
      return undefined;
    }
    if (entry.messageEnd) this.#currentEnded = true;
    return entry.data;
  }

  #peek(): InboxEntry | undefined {
    return this.#entries[this.#head];
  }

  /** Waits for the next entry; undefined when none will come. */
  async #take(): Promise<InboxEntry | undefined> {
    for (;;) {
      const entry = this.#entries[this.#head];
      if (entry !== undefined) {
        this.#entries[this.#head] = undefined;
        this.#head++;
        if (this.#head === this.#entries.length) {
          this.#entries = [];
          this.#head = 0;
        } else if (this.#head >= 1024 && this.#head * 2 >= this.#entries.length) {
          this.#entries = this.#entries.slice(this.#head);
          this.#head = 0;
        }
        this.#queuedBytes -= entry.data.length;
        if (this.#paused && this.#queuedBytes <= this.#options.highWaterMark / 2) this.#release();
        return entry;
      }
      if (!this.#active || this.#closed !== undefined) return undefined;
      await this.#wait();
    }
  }

  #release(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#options.resume();
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

class InboxMessage implements ReceivedMessage {
  readonly isBinary: boolean;
  readonly #inbox: MessageInbox;

  constructor(inbox: MessageInbox, isBinary: boolean) {
    this.#inbox = inbox;
    this.isBinary = isBinary;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const chunk = await this.#inbox.nextChunk(this);
      if (chunk === undefined) return;
      if (chunk.length > 0) yield chunk;
    }
  }

  async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this) chunks.push(chunk);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }
}
