/** Where the demo's log lines go: `console.log` in `main.ts`, an array in the tests. */
export type LogWriter = (line: string) => void;

/** The longest text message shown in a log line; longer ones are cut with an ellipsis. */
const PREVIEW_LENGTH = 60;

/**
 * The demo's observability: one readable line per connection, per
 * fragment of a message received in streaming mode, per message and per close. Connections
 * are numbered in arrival order so that the lines of one connection can be followed.
 *
 * ```
 * #1 open /chat from 127.0.0.1:51234
 * #2 fragment 1: 131072 bytes
 * #2 message binary 262145 bytes in 3 fragments
 * #1 close 1001 "Server shutting down" (clean)
 * ```
 */
export class DemoLog {
  readonly #write: LogWriter;
  #lastId = 0;

  constructor(write: LogWriter) {
    this.#write = write;
  }

  /** Numbers a new connection and logs it. */
  open(path: string, remote: string): number {
    const id = ++this.#lastId;
    this.#write(`#${id} open ${path} from ${remote}`);
    return id;
  }

  /** A frame of a message has been received in full (streaming mode). Fragments count from 1. */
  fragment(id: number, index: number, byteLength: number): void {
    this.#write(`#${id} fragment ${index}: ${byteLength} bytes`);
  }

  message(id: number, data: Buffer, isBinary: boolean, fragments = 1): void {
    const size = `${data.length} bytes`;
    const framing = fragments > 1 ? ` in ${fragments} fragments` : '';
    const preview = isBinary ? '' : ` ${JSON.stringify(truncate(data.toString('utf8')))}`;
    this.#write(`#${id} message ${isBinary ? 'binary' : 'text'} ${size}${framing}${preview}`);
  }

  close(id: number, code: number, reason: string, wasClean: boolean): void {
    const why = reason === '' ? '' : ` ${JSON.stringify(reason)}`;
    this.#write(`#${id} close ${code}${why} (${wasClean ? 'clean' : 'not clean'})`);
  }

  /** Anything else worth a line: the server listening, shutting down. */
  info(text: string): void {
    this.#write(text);
  }
}

function truncate(text: string): string {
  return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH)}…` : text;
}
