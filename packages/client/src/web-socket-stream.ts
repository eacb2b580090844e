import { Buffer } from 'node:buffer';
import { CloseCode, ConnectionState } from '@ws/core';
import type { ClientConnection } from './client-connection.js';
import type { ClientTarget } from './connect/resolve-url.js';
import type { ConnectOptions } from './connect.js';
import { createWebSocketError, WebSocketError } from './web-socket-error.js';
import { checkProtocols } from './whatwg/check-protocols.js';
import { defineInterface } from './whatwg/define-interface.js';
import { abandonConnection, establishWebSocketConnection } from './whatwg/establish-web-socket-connection.js';
import { getUrlRecord } from './whatwg/get-url-record.js';
import { toCloseInfo, type WebSocketCloseInfo } from './whatwg/to-close-info.js';
import { validateCloseCodeAndReason } from './whatwg/validate-close-code-and-reason.js';
import { requireArguments, toBufferSource, toDictionary, toStringSequence, toUsvString } from './whatwg/webidl-conversions.js';

/** What `WebSocketStream` takes: the proposal's `protocols` and `signal`, and everything `connect()` does. */
export interface WebSocketStreamOptions extends Omit<ConnectOptions, 'protocols' | 'signal'> {
  /** Subprotocols to offer, in order of preference: a list (a string alone is a TypeError, as in Chromium). */
  readonly protocols?: Iterable<string>;
  /** Aborting it before the connection opened abandons the attempt; afterwards it does nothing. */
  readonly signal?: AbortSignal | null;
  /** The base a relative `url` is resolved against (see `WebSocketOptions.baseURL`). */
  readonly baseURL?: string | URL;
  /**
   * Messages the readable may hold unread before reading from the socket stops, so that TCP
   * slows the server down (the readable's `highWaterMark`, counted in messages). Default 16.
   */
  readonly readableHighWaterMark?: number;
}

/** A chunk the writable takes: bytes are sent as a binary message, anything else as text. */
export type WebSocketStreamWritable = string | ArrayBufferLike | ArrayBufferView;

/** What `opened` resolves with. */
export interface WebSocketOpenInfo {
  /** The messages: text as strings, binary as Uint8Arrays. Done after a clean close. */
  readonly readable: ReadableStream<string | Uint8Array>;
  /** Each chunk written is one message; `write()` resolves once the socket took it. */
  readonly writable: WritableStream<WebSocketStreamWritable>;
  readonly extensions: string;
  readonly protocol: string;
}

/** What `closed` resolves with after a clean close: the server's close code (1005 if none) and reason. */
export interface WebSocketClosedInfo {
  readonly closeCode: number;
  readonly reason: string;
}

export type { WebSocketCloseInfo } from './whatwg/to-close-info.js';

const DEFAULT_READABLE_HIGH_WATER_MARK = 16;

interface Settlement<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * The WHATWG `WebSocketStream` proposal (https://github.com/whatwg/websockets/pull/48), as
 * Chromium ships it: a WebSocket whose messages are a ReadableStream and a WritableStream, so
 * that backpressure works both ways. Reading pauses the socket while the readable holds
 * `readableHighWaterMark` unread messages (the server then sees its writes back up); `write()`
 * resolves once the socket took the message and is not backed up.
 *
 * ```ts
 * const wss = new WebSocketStream('wss://example.com/feed', { protocols: ['feed.v1'] });
 * const { readable, writable } = await wss.opened;
 * const writer = writable.getWriter();
 * await writer.write('subscribe');
 * for await (const message of readable) console.log(message);
 * const { closeCode, reason } = await wss.closed;
 * ```
 *
 * A failed handshake rejects `opened` and `closed` with a `WebSocketError` (its `cause` is the
 * `HandshakeError`); an unclean close errors both streams and rejects `closed` with a
 * `WebSocketError` carrying the close code (1006 when no close frame came) and reason. Neither
 * promise counts as an unhandled rejection.
 */
export class WebSocketStream {
  readonly #url: string;
  readonly #opened = settlement<WebSocketOpenInfo>();
  readonly #closed = settlement<WebSocketClosedInfo>();
  readonly #abort = new AbortController();
  #state: ConnectionState = ConnectionState.Connecting;
  #connection: ClientConnection | undefined;
  #readable: ReadableStreamDefaultController<string | Uint8Array> | undefined;
  #readableOpen = false;
  #writable: WritableStreamDefaultController | undefined;
  #handshakeAborted = false;
  #failure: unknown;
  /** What writes fail with once the connection closed: how the writable was errored. */
  #closeError: unknown;
  #forgetSignal: (() => void) | undefined;

  /** `constructor(USVString url, optional WebSocketStreamOptions options = {})`. */
  constructor(url: string | URL, options?: WebSocketStreamOptions) {
    requireArguments(arguments.length, 1, 'WebSocketStream constructor');
    const urlString = toUsvString(url);
    const settings = toDictionary(options, 'WebSocketStream constructor: options') as WebSocketStreamOptions;
    // The dictionary's members, in lexicographic order: `sequence<USVString> protocols`, `AbortSignal signal`.
    const protocols =
      settings.protocols === undefined ? [] : toStringSequence(settings.protocols, 'WebSocketStreamOptions.protocols', toUsvString);
    const signal = settings.signal ?? undefined;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError('WebSocketStreamOptions.signal is not an AbortSignal');
    }
    const highWaterMark = settings.readableHighWaterMark ?? DEFAULT_READABLE_HIGH_WATER_MARK;
    if (typeof highWaterMark !== 'number' || !(highWaterMark >= 0)) {
      throw new RangeError(`readableHighWaterMark must be a number of messages >= 0, got ${String(highWaterMark)}`);
    }
    const target = getUrlRecord(urlString, settings.baseURL);
    checkProtocols(protocols);
    this.#url = target.url.href;
    if (signal !== undefined) {
      // "If signal is aborted, then reject this's opened promise and closed promise with signal's
      // abort reason and return."
      if (signal.aborted) {
        this.#state = ConnectionState.Closed;
        this.#opened.reject(signal.reason);
        this.#closed.reject(signal.reason);
        return;
      }
      const onAbort = (): void => this.#abortHandshake(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#forgetSignal = () => signal.removeEventListener('abort', onAbort);
    }
    void this.#open(target, settings, protocols, highWaterMark);
  }

  /** The URL, with `http:`/`https:` turned into `ws:`/`wss:`. */
  get url(): string {
    return this.#url;
  }

  /** Resolves with the streams, the subprotocol and the extensions once the server accepted. */
  get opened(): Promise<WebSocketOpenInfo> {
    return this.#opened.promise;
  }

  /** Resolves with the close code and reason after a clean close; rejects with a `WebSocketError` otherwise. */
  get closed(): Promise<WebSocketClosedInfo> {
    return this.#closed.promise;
  }

  /**
   * `close(optional WebSocketCloseInfo closeInfo = {})`: starts the closing handshake with
   * `closeCode` (1000 or 3000-4999, else an `InvalidAccessError`) and `reason` (at most 123
   * bytes, else a `SyntaxError`); before the connection opened, abandons it.
   */
  close(closeInfo?: WebSocketCloseInfo): void {
    const { closeCode, reason } = toCloseInfo(closeInfo, 'WebSocketStream.close: closeInfo');
    this.#closeWebSocket(closeCode, reason);
  }

  async #open(target: ClientTarget, settings: WebSocketStreamOptions, protocols: readonly string[], highWaterMark: number): Promise<void> {
    let connection: ClientConnection;
    try {
      connection = await establishWebSocketConnection(target, settings, protocols, this.#abort.signal);
    } catch (error) {
      this.#onHandshakeFailure(error);
      return;
    }
    if (this.#abort.signal.aborted) {
      abandonConnection(connection);
      this.#onHandshakeFailure(new DOMException('The connection was closed before it opened', 'AbortError'));
      return;
    }
    this.#forgetSignal?.();
    this.#connection = connection;
    this.#state = ConnectionState.Open;
    const readable = new ReadableStream<string | Uint8Array>(
      {
        start: (controller) => {
          this.#readable = controller;
          this.#readableOpen = true;
        },
        // "To pull bytes from a WebSocketStream stream, if stream is currently applying
        // backpressure, release backpressure."
        pull: () => connection.resume(),
        cancel: (reason) => {
          this.#readableOpen = false;
          this.#closeUsingReason(reason);
        },
      },
      { highWaterMark },
    );
    const writable = new WritableStream<WebSocketStreamWritable>({
      start: (controller) => {
        this.#writable = controller;
      },
      write: (chunk) => this.#write(connection, chunk),
      close: () => this.#closeWritable(),
      abort: (reason) => this.#closeUsingReason(reason),
    });
    connection.on('message', this.#onMessage);
    connection.on('error', (error) => {
      this.#failure ??= error;
    });
    connection.on('close', (code, reason, wasClean) => this.#onClose(code, reason, wasClean));
    this.#opened.resolve({ readable, writable, extensions: connection.extensions, protocol: connection.protocol });
    connection.start();
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
    // "If stream's ready state is not OPEN (1), then return."
    if (this.#state !== ConnectionState.Open || !this.#readableOpen) return;
    const controller = this.#readable!;
    controller.enqueue(isBinary ? toUint8Array(data) : data.toString('utf8'));
    // "Apply backpressure to the WebSocket" while the readable's queue is full: the socket is
    // not read until a reader makes room (pull), so TCP slows the server down.
    if ((controller.desiredSize ?? 0) <= 0) this.#connection?.pause();
  };

  /**
   * The writable's write algorithm: "If chunk is a BufferSource", a copy of its bytes as a binary
   * message; otherwise the chunk converted to a USVString, as text. Nothing is sent once the
   * closing handshake started ("If the closing handshake has not yet started, send").
   */
  async #write(connection: ClientConnection, chunk: unknown): Promise<void> {
    const bytes = toBufferSource(chunk, 'WebSocketStream write: chunk');
    const data = bytes === undefined ? toUsvString(chunk) : Buffer.from(bytes);
    if (this.#state !== ConnectionState.Open || connection.readyState !== ConnectionState.Open) return;
    try {
      await connection.sendAsync(data);
    } catch (error) {
      // The connection closed under the write: report it as the streams report the close.
      await this.#closed.promise.catch(() => undefined);
      throw this.#closeError ?? error;
    }
  }

  /** The writable's close algorithm: a close without a code, settled once the closing handshake is over. */
  async #closeWritable(): Promise<void> {
    this.#closeWebSocket(undefined, '');
    await this.#closed.promise;
  }

  /**
   * "Close using reason": the writable's abort and the readable's cancel close with the code and
   * reason of a `WebSocketError`, and without a code for any other reason.
   */
  #closeUsingReason(reason: unknown): void {
    if (reason instanceof WebSocketError) {
      try {
        this.#closeWebSocket(reason.closeCode ?? undefined, reason.reason);
        return;
      } catch {
        // "If this throws an exception, discard code and reasonString and close the WebSocket."
      }
    }
    this.#closeWebSocket(undefined, '');
  }

  /** "Close the WebSocket" with a code (or none) and a reason. */
  #closeWebSocket(code: number | undefined, reason: string): void {
    validateCloseCodeAndReason(code, reason);
    const state = this.#state;
    if (state === ConnectionState.Closing || state === ConnectionState.Closed) return;
    this.#state = ConnectionState.Closing;
    if (state === ConnectionState.Connecting) {
      // "If the WebSocket connection is not yet established: Fail the WebSocket connection".
      this.#abort.abort();
      return;
    }
    // "If reason is non-empty but code is null, then set code to 1000"; with neither, the close
    // frame has no body.
    void this.#connection!.close(code ?? (reason === '' ? undefined : CloseCode.Normal), reason);
  }

  #abortHandshake(reason: unknown): void {
    // "If the WebSocket connection is not yet established: Fail the WebSocket connection. Set
    // this's ready state to CLOSING. Reject this's opened promise and closed promise with
    // signal's abort reason. Set this's handshake aborted to true."
    if (this.#state !== ConnectionState.Connecting) return;
    this.#state = ConnectionState.Closing;
    this.#handshakeAborted = true;
    this.#opened.reject(reason);
    this.#closed.reject(reason);
    this.#abort.abort();
  }

  #onHandshakeFailure(cause: unknown): void {
    this.#state = ConnectionState.Closed;
    this.#forgetSignal?.();
    if (this.#handshakeAborted) return;
    // "If stream's was ever connected is false, then reject stream's opened promise with a new
    // WebSocketError." Then, no close frame having come, the close was not clean (1006).
    this.#opened.reject(createWebSocketError(`The connection could not be opened: ${messageOf(cause)}`, null, '', cause));
    this.#closed.reject(createWebSocketError('The connection could not be opened', CloseCode.Abnormal, '', cause));
  }

  #onClose(code: number, reason: string, wasClean: boolean): void {
    this.#state = ConnectionState.Closed;
    const readable = this.#readableOpen ? this.#readable : undefined;
    this.#readableOpen = false;
    // A connection that failed (the server broke the protocol) did not close cleanly, even when
    // the server answered the close frame the failure sent.
    if (wasClean && this.#failure === undefined) {
      // "Close stream's readable stream. Error stream's writable stream with an
      // "InvalidStateError" DOMException indicating that a closed WebSocketStream cannot be
      // written to. Resolve stream's closed promise with WebSocketCloseInfo".
      this.#closeError = new DOMException('A closed WebSocketStream cannot be written to', 'InvalidStateError');
      readable?.close();
      this.#writable?.error(this.#closeError);
      this.#closed.resolve({ closeCode: code, reason });
      return;
    }
    // "Let error be a new WebSocketError whose closeCode is code and reason is reason. Error
    // stream's readable stream with error. Error stream's writable stream with error. Reject
    // stream's closed promise with error."
    const error = createWebSocketError(`The connection closed uncleanly (${code})`, code, reason, this.#failure);
    this.#closeError = error;
    readable?.error(error);
    this.#writable?.error(error);
    this.#closed.reject(error);
  }
}

defineInterface(WebSocketStream, {
  name: 'WebSocketStream',
  length: 1,
  attributes: ['url', 'opened', 'closed'],
  operations: { close: 0 },
});

/** A promise with its resolvers, marked as handled: an application that ignores it is not crashed by it. */
function settlement<T>(): Settlement<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * A binary message as a Uint8Array of its own: a view into a larger buffer (a socket chunk) is
 * copied, so that `.buffer` holds this message and nothing else.
 */
function toUint8Array(data: Buffer): Uint8Array {
  const { buffer, byteOffset, byteLength } = data;
  if (byteOffset === 0 && byteLength === buffer.byteLength) return new Uint8Array(buffer, byteOffset, byteLength);
  return new Uint8Array(data);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
