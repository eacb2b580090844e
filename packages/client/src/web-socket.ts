import { Buffer } from 'node:buffer';
import { CloseCode, ConnectionState } from '@ws/core';
import { ClientConnection } from './client-connection.js';
import { CloseEvent } from './close-event.js';
import { performHandshake } from './connect/client-handshake.js';
import { type ClientTarget, resolveUrl } from './connect/resolve-url.js';
import type { ConnectOptions } from './connect.js';
import { ErrorEvent } from './error-event.js';

/** How binary messages are delivered: as in browsers (`blob`, `arraybuffer`), or as a Node `Buffer`. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** Everything `connect()` accepts, plus `protocols` (also accepted as the second argument). */
export type WebSocketOptions = ConnectOptions;

type EventHandler = ((this: WebSocket, event: Event) => unknown) | null;
type EventHandlerType = 'open' | 'message' | 'error' | 'close';

const BINARY_TYPES: ReadonlySet<string> = new Set(['blob', 'arraybuffer', 'nodebuffer']);
/** RFC 6455 §5.5 / WHATWG: a close reason is at most 123 bytes of UTF-8 (125 minus the code). */
const MAX_REASON_BYTES = 123;

/**
 * The WHATWG `WebSocket` (https://websockets.spec.whatwg.org/), so that code written for
 * browsers runs unchanged, on the same engine as `connect()`. Node extras: a third `options`
 * argument (or an options object as the second) taking everything `connect()` does, and
 * `binaryType = 'nodebuffer'`.
 */
export class WebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  readonly #target: ClientTarget;
  readonly #abort = new AbortController();
  readonly #handlers = new Map<EventHandlerType, { handler: NonNullable<EventHandler>; listener: (event: Event) => void }>();
  #connection: ClientConnection | undefined;
  #readyState: ConnectionState = ConnectionState.Connecting;
  #binaryType: BinaryType = 'blob';
  #protocol = '';
  #extensions = '';
  #failure: unknown;
  #forgetSignal: (() => void) | undefined;

  // bufferedAmount, as the spec defines it: application bytes queued by send() and not yet
  // transmitted "as of the last time the event loop reached step 1".
  #sentThisTask = 0;
  #sentEarlier = 0;
  #rolloverScheduled = false;
  #neverSent = 0;
  readonly #blobQueue: (Blob | Buffer | string)[] = [];
  #blobQueueBytes = 0;

  constructor(url: string | URL, protocols?: string | readonly string[] | WebSocketOptions, options: WebSocketOptions = {}) {
    super();
    let settings = options;
    if (protocols !== undefined && protocols !== null) {
      settings =
        typeof protocols === 'object' && !isStringList(protocols)
          ? (protocols as WebSocketOptions)
          : { ...options, protocols: protocols as string | readonly string[] };
    }
    try {
      this.#target = resolveUrl(url);
    } catch (error) {
      throw new DOMException((error as Error).message, 'SyntaxError');
    }
    const protocolList = typeof settings.protocols === 'string' ? [settings.protocols] : [...(settings.protocols ?? [])];
    // "If any of the values in protocols occur more than once or otherwise fail to match the
    // requirements for elements that comprise the value of `Sec-WebSocket-Protocol` fields as
    // defined by The WebSocket protocol, then throw a "SyntaxError" DOMException." Duplicates
    // are compared case-insensitively, as Node's built-in WebSocket does.
    const unique = new Set(protocolList.map((protocol) => String(protocol).toLowerCase()));
    if (unique.size !== protocolList.length || !protocolList.every((protocol) => isToken(String(protocol)))) {
      throw new DOMException('Invalid Sec-WebSocket-Protocol value', 'SyntaxError');
    }
    const userSignal = settings.signal;
    if (userSignal !== undefined) {
      const onAbort = (): void => this.close();
      userSignal.addEventListener('abort', onAbort, { once: true });
      this.#forgetSignal = () => userSignal.removeEventListener('abort', onAbort);
      if (userSignal.aborted) this.close();
    }
    void this.#open(settings, protocolList.map(String));
  }

  get url(): string {
    return this.#target.url.href;
  }

  get readyState(): ConnectionState {
    // "Upon either sending or receiving a Close control frame, it is said that _The WebSocket
    // Closing Handshake is Started_" (RFC 6455 §7.1.3): the server's close frame makes it CLOSING.
    if (this.#readyState === ConnectionState.Open && this.#connection !== undefined) {
      if (this.#connection.readyState !== ConnectionState.Open) this.#readyState = ConnectionState.Closing;
    }
    return this.#readyState;
  }

  get protocol(): string {
    return this.#protocol;
  }

  get extensions(): string {
    return this.#extensions;
  }

  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    // WebIDL: assigning a value that is not one of the enumeration's values is ignored.
    if (BINARY_TYPES.has(value)) this.#binaryType = value;
  }

  /**
   * Bytes of application data passed to `send()` and not yet transmitted: everything sent in
   * the current task, plus whatever earlier sends the transport still holds. Sends after the
   * closing handshake started count as well, and never leave (the spec says so).
   */
  get bufferedAmount(): number {
    const socket = this.#connection?.socket;
    if (socket !== undefined) this.#sentEarlier = Math.min(this.#sentEarlier, socket.writableLength);
    return this.#sentThisTask + this.#sentEarlier + this.#blobQueueBytes + this.#neverSent;
  }

  get onopen(): EventHandler {
    return this.#getHandler('open');
  }

  set onopen(handler: EventHandler) {
    this.#setHandler('open', handler);
  }

  get onmessage(): EventHandler {
    return this.#getHandler('message');
  }

  set onmessage(handler: EventHandler) {
    this.#setHandler('message', handler);
  }

  get onerror(): EventHandler {
    return this.#getHandler('error');
  }

  set onerror(handler: EventHandler) {
    this.#setHandler('error', handler);
  }

  get onclose(): EventHandler {
    return this.#getHandler('close');
  }

  set onclose(handler: EventHandler) {
    this.#setHandler('close', handler);
  }

  /**
   * Sends a message: a string as text; an ArrayBuffer, a view or a Blob as binary. Throws an
   * `InvalidStateError` DOMException while CONNECTING; after the closing handshake started,
   * the data is discarded (and counted in `bufferedAmount`).
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    const readyState = this.readyState;
    if (readyState === ConnectionState.Connecting) {
      throw new DOMException('Cannot send while the WebSocket is CONNECTING', 'InvalidStateError');
    }
    const payload = toPayload(data);
    const byteLength = typeof payload === 'string' ? Buffer.byteLength(payload) : payload instanceof Blob ? payload.size : payload.length;
    if (readyState !== ConnectionState.Open) {
      this.#neverSent += byteLength;
      return;
    }
    if (payload instanceof Blob || this.#blobQueue.length > 0) {
      // A Blob's bytes are read asynchronously; what is sent after it waits, to keep the order.
      // A queued view is copied: the caller may reuse its memory once send() returned.
      this.#blobQueue.push(Buffer.isBuffer(payload) ? Buffer.from(payload) : payload);
      this.#blobQueueBytes += byteLength;
      if (this.#blobQueue.length === 1) void this.#drainBlobQueue();
      return;
    }
    this.#transmit(payload, byteLength);
  }

  /**
   * Starts the closing handshake. `code` must be 1000 or 3000-4999 (else an
   * `InvalidAccessError` DOMException) and `reason` at most 123 bytes of UTF-8 (else a
   * `SyntaxError`). While CONNECTING, the attempt is abandoned.
   */
  close(code?: number, reason?: string): void {
    let closeCode: number | undefined;
    if (code !== undefined) {
      closeCode = clampUnsignedShort(code);
      // "If code is not null, but is neither an integer equal to 1000 nor an integer in the
      // range 3000 to 4999, inclusive, throw an "InvalidAccessError" DOMException."
      if (closeCode !== CloseCode.Normal && (closeCode < 3000 || closeCode > 4999)) {
        throw new DOMException(`The close code must be 1000 or in 3000-4999, got ${closeCode}`, 'InvalidAccessError');
      }
    }
    const closeReason = reason === undefined ? '' : toUsvString(reason);
    // "If reasonBytes is longer than 123 bytes, then throw a "SyntaxError" DOMException."
    if (Buffer.byteLength(closeReason) > MAX_REASON_BYTES) {
      throw new DOMException(`The close reason must be at most ${MAX_REASON_BYTES} bytes of UTF-8`, 'SyntaxError');
    }
    const readyState = this.readyState;
    if (readyState === ConnectionState.Closing || readyState === ConnectionState.Closed) return;
    if (readyState === ConnectionState.Connecting) {
      // "If the WebSocket connection is not yet established: Fail the WebSocket connection and
      // set this's ready state to CLOSING."
      this.#readyState = ConnectionState.Closing;
      this.#abort.abort();
      return;
    }
    this.#readyState = ConnectionState.Closing;
    // "If reason is non-empty but code is null, then set code to 1000"; with neither, the
    // close frame has no body.
    if (closeCode === undefined && closeReason !== '') closeCode = CloseCode.Normal;
    void this.#connection?.close(closeCode, closeReason).catch(() => undefined);
  }

  async #open(options: WebSocketOptions, protocols: string[]): Promise<void> {
    let connection: ClientConnection;
    try {
      const handshake = await performHandshake(this.#target, { ...options, protocols, signal: this.#abort.signal });
      if (this.#readyState !== ConnectionState.Connecting) {
        handshake.socket.destroy();
        for (const extension of handshake.negotiatedExtensions) extension.dispose();
        this.#failure = new DOMException('The connection was closed before it opened', 'AbortError');
        this.#onClose(CloseCode.Abnormal, '', false);
        return;
      }
      connection = new ClientConnection(handshake, options);
    } catch (error) {
      this.#failure = error;
      this.#onClose(CloseCode.Abnormal, '', false);
      return;
    }
    this.#connection = connection;
    connection.on('message', this.#onMessage);
    connection.on('error', (error) => {
      this.#failure ??= error;
    });
    connection.on('close', (code, reason, wasClean) => this.#onClose(code, reason, wasClean));
    this.#protocol = connection.protocol;
    this.#extensions = connection.extensions;
    this.#readyState = ConnectionState.Open;
    this.dispatchEvent(new Event('open'));
    connection.start();
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
    // "If ready state is not OPEN (1), then return."
    if (this.readyState !== ConnectionState.Open) return;
    let payload: string | Blob | ArrayBuffer | Buffer;
    if (!isBinary) payload = data.toString('utf8');
    else if (this.#binaryType === 'nodebuffer') payload = data;
    else if (this.#binaryType === 'arraybuffer') payload = toArrayBuffer(data);
    else payload = new Blob([data]);
    this.dispatchEvent(new MessageEvent('message', { data: payload, origin: this.#origin() }));
  };

  #onClose(code: number, reason: string, wasClean: boolean): void {
    this.#readyState = ConnectionState.Closed;
    this.#forgetSignal?.();
    this.#blobQueue.length = 0;
    // "If the user agent was required to fail the WebSocket connection ... fire an event named
    // error". As Node's built-in WebSocket does, that includes every close without a close
    // frame from the server (1006).
    if (this.#failure !== undefined || code === CloseCode.Abnormal) {
      const error = this.#failure ?? new Error(reason === '' ? 'The connection closed abnormally' : reason);
      this.dispatchEvent(new ErrorEvent('error', { error, message: error instanceof Error ? error.message : String(error) }));
    }
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
  }

  #transmit(payload: string | Buffer, byteLength: number): void {
    this.#connection?.send(payload);
    this.#sentThisTask += byteLength;
    if (!this.#rolloverScheduled) {
      this.#rolloverScheduled = true;
      setImmediate(() => {
        this.#rolloverScheduled = false;
        this.#sentEarlier += this.#sentThisTask;
        this.#sentThisTask = 0;
      });
    }
  }

  async #drainBlobQueue(): Promise<void> {
    while (this.#blobQueue.length > 0) {
      const next = this.#blobQueue[0]!;
      const bytes = next instanceof Blob ? Buffer.from(await next.arrayBuffer()) : next;
      if (this.#blobQueue[0] !== next) return;
      this.#blobQueue.shift();
      const byteLength = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
      this.#blobQueueBytes -= byteLength;
      if (this.readyState === ConnectionState.Open) this.#transmit(bytes, byteLength);
      else this.#neverSent += byteLength;
    }
  }

  #origin(): string {
    return this.#target.socketPath === undefined ? this.#target.url.origin : 'null';
  }

  #getHandler(type: EventHandlerType): EventHandler {
    return this.#handlers.get(type)?.handler ?? null;
  }

  /**
   * HTML's event handler attributes: the handler keeps the position among listeners it got when
   * first set; setting another function replaces it in place; null removes it.
   */
  #setHandler(type: EventHandlerType, handler: EventHandler): void {
    const existing = this.#handlers.get(type);
    if (typeof handler !== 'function') {
      if (existing !== undefined) {
        this.removeEventListener(type, existing.listener);
        this.#handlers.delete(type);
      }
      return;
    }
    if (existing !== undefined) {
      existing.handler = handler;
      return;
    }
    const entry = {
      handler,
      listener: (event: Event): void => {
        entry.handler.call(this, event);
      },
    };
    this.#handlers.set(type, entry);
    this.addEventListener(type, entry.listener);
  }
}

const readyStateConstants = {
  CONNECTING: { value: 0, enumerable: true },
  OPEN: { value: 1, enumerable: true },
  CLOSING: { value: 2, enumerable: true },
  CLOSED: { value: 3, enumerable: true },
} as const;
Object.defineProperties(WebSocket.prototype, {
  ...readyStateConstants,
  [Symbol.toStringTag]: { value: 'WebSocket', configurable: true },
});

function isStringList(value: object): value is readonly string[] {
  return Array.isArray(value);
}

/** RFC 6455 §4.1 via RFC 2616 §2.2: a subprotocol is a token. */
function isToken(value: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value);
}

/** WebIDL `unsigned short` with [Clamp]: NaN is 0, out-of-range values clamp, halves round to even. */
function clampUnsignedShort(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** WebIDL `USVString`: lone surrogates become U+FFFD. */
function toUsvString(value: unknown): string {
  return Buffer.from(String(value), 'utf8').toString('utf8');
}

/** WebIDL `(BufferSource or Blob or USVString)`: anything else is converted to a string. */
function toPayload(data: unknown): string | Buffer | Blob {
  if (typeof data === 'string') return data;
  if (data instanceof Blob) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return toUsvString(data);
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  const buffer = data.buffer;
  if (buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength) return buffer;
  return new Uint8Array(data).buffer;
}
