import { Buffer } from 'node:buffer';

/** What `messages()` and `messageStreams()` return: `return()` is always there, to stop early. */
export type MessageIterator<Item> = AsyncIterableIterator<Item> & {
  return(value?: unknown): Promise<IteratorResult<Item, undefined>>;
};

/** A received message: text as a string, binary as a Buffer, so that echoing one is `send(message)`. */
export type Message = string | Buffer;

/**
 * A message read with `connection.messageStreams()`: an async iterable of its payload chunks,
 * in order. In receive mode `stream` the chunks are the pieces as they come off the transport
 * (never assembled, so a message of any size needs no more memory than the receive high-water
 * mark); in mode `message` there is one chunk, the whole message.
 */
export interface ReceivedMessage extends AsyncIterable<Buffer> {
  readonly isBinary: boolean;
  /** Reads the rest of the message into one Buffer. */
  bytes(): Promise<Buffer>;
  /** Reads the rest of the message as UTF-8 text. */
  text(): Promise<string>;
}

/** Where a {@link StreamedMessage} reads its chunks from. */
export interface ChunkSource {
  /** The next chunk of `message`; undefined at its end. Throws when the connection closed mid-message. */
  nextChunk(message: StreamedMessage): Promise<Buffer | undefined>;
}

export class StreamedMessage implements ReceivedMessage {
  readonly isBinary: boolean;
  readonly #source: ChunkSource;

  constructor(source: ChunkSource, isBinary: boolean) {
    this.#source = source;
    this.isBinary = isBinary;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const chunk = await this.#source.nextChunk(this);
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

  /** The whole message as the `messages()` iterator yields it. */
  async read(): Promise<Message> {
    const bytes = await this.bytes();
    return this.isBinary ? bytes : bytes.toString('utf8');
  }
}
