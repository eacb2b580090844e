import type { Buffer } from 'node:buffer';
import { type ConnectionClosedError, InvalidStateError } from '@ws/core';
import { type ChunkSource, type Message, type MessageIterator, type ReceivedMessage, StreamedMessage } from './received-message.js';

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
  /** Called with true when the consumer fell behind (stop reading), false when it caught up. */
  readonly setFull: (full: boolean) => void;
}

/**
 * The queue between a connection's events and one async-iterator consumer, with backpressure in
 * bytes: when the consumer falls behind by more than `highWaterMark`, the connection stops
 * reading, so TCP flow control slows the peer down instead of our memory filling up. Messages
 * are queued only while a consumer iterates; one iteration at a time.
 */
export class MessageInbox implements ChunkSource {
  readonly #options: MessageInboxOptions;
  #entries: (InboxEntry | undefined)[] = [];
  #head = 0;
  #queuedBytes = 0;
  #full = false;
  #iterating = false;
  #ended = false;
  /** How the connection closed; thrown by a message it cut short. */
  #closeError: ConnectionClosedError | undefined;
  /** Whether the iteration throws `#closeError` once the queue is read: the connection did not close normally. */
  #failed = false;
  #waiters: (() => void)[] = [];
  /** The message handed out last, and whether its end has been read. */
  #current: StreamedMessage | undefined;
  #currentEnded = true;

  constructor(options: MessageInboxOptions) {
    this.#options = options;
  }

  /** Bytes queued and not yet read. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Whether a consumer is iterating (messages are queued only then). */
  get isActive(): boolean {
    return this.#iterating && !this.#ended;
  }

  push(entry: InboxEntry): void {
    if (!this.isActive) return;
    this.#entries.push(entry);
    this.#queuedBytes += entry.data.length;
    if (!this.#full && this.#queuedBytes > this.#options.highWaterMark) this.#setFull(true);
    this.#wake();
  }

  /** The connection closed: queued messages are still read, then iteration ends (or throws, when `failed`). */
  end(closeError: ConnectionClosedError, failed: boolean): void {
    this.#ended = true;
    this.#closeError = closeError;
    this.#failed = failed;
    this.#wake();
  }

  /**
   * Whole messages: text as strings, binary as Buffers. Messages are queued from this call on
   * (not from the first `next()`), so a consumer set up before any `await` misses none.
   */
  messages(): MessageIterator<Message> {
    const streams = this.messageStreams();
    return settledOnReturn(readWhole(streams), () => void streams.return());
  }

  /** Messages as streams of their chunks; queued from this call on. Throws while another iteration is in progress. */
  messageStreams(): MessageIterator<ReceivedMessage> {
    if (this.#iterating) {
      throw new InvalidStateError("Another iteration over this connection's messages is in progress", 'iterating');
    }
    this.#iterating = true;
    return settledOnReturn(this.#iterate(), () => this.#release());
  }

  async *#iterate(): AsyncGenerator<ReceivedMessage, void, undefined> {
    try {
      for (;;) {
        const message = await this.#nextMessage();
        if (message === undefined) break;
        yield message;
      }
      if (this.#failed) throw this.#closeError;
    } finally {
      this.#release();
    }
  }

  /** The iteration ended: drop what is queued and read the transport again. */
  #release(): void {
    if (!this.#iterating) return;
    this.#iterating = false;
    this.#entries = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#currentEnded = true;
    this.#setFull(false);
    this.#wake();
  }

  async #nextMessage(): Promise<StreamedMessage | undefined> {
    // A message the consumer did not read to its end is skipped, as it arrives.
    while (!this.#currentEnded) {
      const entry = await this.#take();
      if (entry === undefined) return undefined;
      if (entry.messageEnd) this.#currentEnded = true;
    }
    for (;;) {
      const entry = this.#entries[this.#head];
      if (entry === undefined) {
        if (this.#ended) return undefined;
        await this.#wait();
      } else if (!entry.messageStart) {
        // The tail of a message that began before iteration did; it cannot be read whole.
        await this.#take();
      } else {
        this.#current = new StreamedMessage(this, entry.isBinary);
        this.#currentEnded = false;
        return this.#current;
      }
    }
  }

  async nextChunk(message: StreamedMessage): Promise<Buffer | undefined> {
    if (message !== this.#current || this.#currentEnded) return undefined;
    const entry = await this.#take();
    if (entry === undefined) {
      // The connection closed in the middle of this message: truncated data never looks complete.
      if (this.#closeError !== undefined) throw this.#closeError;
      return undefined;
    }
    if (entry.messageEnd) this.#currentEnded = true;
    return entry.data;
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
        if (this.#full && this.#queuedBytes <= this.#options.highWaterMark / 2) this.#setFull(false);
        return entry;
      }
      if (!this.#iterating || this.#ended) return undefined;
      await this.#wait();
    }
  }

  #setFull(full: boolean): void {
    if (this.#full === full) return;
    this.#full = full;
    this.#options.setFull(full);
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

async function* readWhole(streams: MessageIterator<ReceivedMessage>): AsyncGenerator<Message, void, undefined> {
  try {
    for await (const message of streams) yield await (message as StreamedMessage).read();
  } finally {
    await streams.return();
  }
}

/**
 * An async generator that also runs `abandon` when `return()` is called before the first
 * `next()` (a generator that never started skips its own `finally`).
 */
function settledOnReturn<Item>(generator: AsyncGenerator<Item, void, undefined>, abandon: () => void): MessageIterator<Item> {
  let started = false;
  const iterator: MessageIterator<Item> = {
    next() {
      started = true;
      return generator.next();
    },
    return(value?: unknown) {
      if (!started) abandon();
      return generator.return(value as undefined) as Promise<IteratorResult<Item, undefined>>;
    },
    throw(error?: unknown) {
      if (!started) abandon();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
