import type { Buffer } from 'node:buffer';
import { CloseCode, ConnectionState } from '@ws/core';
import type { ClientConnection } from './client-connection.js';
import { CloseEvent } from './close-event.js';
import type { ClientTarget } from './connect/resolve-url.js';
import type { ConnectOptions } from './connect.js';
import { ErrorEvent } from './error-event.js';
import { MessageEvent } from './message-event.js';
import { checkProtocols } from './whatwg/check-protocols.js';
import { defineInterface } from './whatwg/define-interface.js';
import { abandonConnection, establishWebSocketConnection } from './whatwg/establish-web-socket-connection.js';
import { EventHandlerAttributes } from './whatwg/event-handler-attributes.js';
import { getUrlRecord } from './whatwg/get-url-record.js';
import { type OutgoingMessage, OutgoingMessages } from './whatwg/outgoing-messages.js';
import { validateCloseCodeAndReason } from './whatwg/validate-close-code-and-reason.js';
import {
  isIterableObject,
  isObject,
  requireArguments,
  toBufferSource,
  toDomString,
  toStringSequence,
  toUnsignedShort,
  toUsvString,
} from './whatwg/webidl-conversions.js';

/** How binary messages are delivered: as in browsers (`blob`, `arraybuffer`), or as a Node `Buffer`. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** Everything `connect()` accepts (`protocols` included), plus what a browser takes from its document. */
export interface WebSocketOptions extends ConnectOptions {
  /**
   * The base a relative `url` is resolved against, as a browser resolves it against the
   * document's URL (`http:`/`https:` then become `ws:`/`wss:`). Without it, a relative URL is a
   * SyntaxError.
   */
  readonly baseURL?: string | URL;
}

/** The events a `WebSocket` fires, for `addEventListener` (as lib.dom's `WebSocketEventMap`). */
export interface WebSocketEventMap {
  close: CloseEvent;
  error: ErrorEvent;
  message: MessageEvent;
  open: Event;
}

type WebSocketEventHandler<E> = ((this: WebSocket, event: E) => unknown) | null;
type WebSocketEventListener<E> = ((this: WebSocket, event: E) => unknown) | { handleEvent(event: E): unknown };
type AddListenerOptions = Parameters<EventTarget['addEventListener']>[2];
type RemoveListenerOptions = Parameters<EventTarget['removeEventListener']>[2];
type AnyListener = Parameters<EventTarget['addEventListener']>[1];

const BINARY_TYPES: ReadonlySet<string> = new Set(['blob', 'arraybuffer', 'nodebuffer']);

/**
 * The WHATWG `WebSocket` (https://websockets.spec.whatwg.org/), so that code written for
 * browsers runs unchanged, on the same engine as `connect()`. Its WebIDL shape is the browsers':
 * argument counts and conversions, enumerable attributes and operations, read-only constants,
 * event handler attributes. Node extras: a third `options` argument (or an options object as the
 * second) taking everything `connect()` does and a `baseURL`, and `binaryType = 'nodebuffer'`.
 */
// Merged with the interface below, which only adds lib.dom's typed addEventListener overloads.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class WebSocket extends EventTarget {
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  readonly #target: ClientTarget;
  readonly #abort = new AbortController();
  readonly #handlers = new EventHandlerAttributes(this);
  readonly #outgoing = new OutgoingMessages(() => this.readyState === ConnectionState.Open);
  #connection: ClientConnection | undefined;
  #readyState: ConnectionState = ConnectionState.Connecting;
  #binaryType: BinaryType = 'blob';
  #protocol = '';
  #extensions = '';
  #failure: unknown;
  #forgetSignal: (() => void) | undefined;

  /**
   * `constructor(USVString url, optional (DOMString or sequence<DOMString>) protocols = [])`,
   * extended as undici does: the second argument may be the options instead.
   */
  constructor(url: string | URL, protocols?: string | readonly string[] | WebSocketOptions | null, options?: WebSocketOptions) {
    requireArguments(arguments.length, 1, 'WebSocket constructor');
    const urlString = toUsvString(url);
    const { protocolList, settings } = toProtocolsAndOptions(protocols, options);
    super();
    this.#target = getUrlRecord(urlString, settings.baseURL);
    checkProtocols(protocolList);
    const userSignal = settings.signal;
    if (userSignal !== undefined) {
      const onAbort = (): void => this.close();
      userSignal.addEventListener('abort', onAbort, { once: true });
      this.#forgetSignal = () => userSignal.removeEventListener('abort', onAbort);
      if (userSignal.aborted) this.close();
    }
    void this.#open(settings, protocolList);
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

  /**
   * Bytes of application data passed to `send()` and not yet transmitted: everything sent in
   * the current task, plus whatever earlier sends the transport still holds. Sends after the
   * closing handshake started count as well, and never leave (the spec says so).
   */
  get bufferedAmount(): number {
    return this.#outgoing.bufferedAmount;
  }

  get onopen(): WebSocketEventHandler<Event> {
    return this.#handlers.get('open') as WebSocketEventHandler<Event>;
  }

  set onopen(handler: WebSocketEventHandler<Event>) {
    this.#handlers.set('open', handler);
  }

  get onerror(): WebSocketEventHandler<ErrorEvent> {
    return this.#handlers.get('error') as WebSocketEventHandler<ErrorEvent>;
  }

  set onerror(handler: WebSocketEventHandler<ErrorEvent>) {
    this.#handlers.set('error', handler);
  }

  get onclose(): WebSocketEventHandler<CloseEvent> {
    return this.#handlers.get('close') as WebSocketEventHandler<CloseEvent>;
  }

  set onclose(handler: WebSocketEventHandler<CloseEvent>) {
    this.#handlers.set('close', handler);
  }

  get extensions(): string {
    return this.#extensions;
  }

  get protocol(): string {
    return this.#protocol;
  }

  /**
   * Starts the closing handshake. `code` must be 1000 or 3000-4999 (else an
   * `InvalidAccessError` DOMException) and `reason` at most 123 bytes of UTF-8 (else a
   * `SyntaxError`). While CONNECTING, the attempt is abandoned.
   */
  close(code?: number, reason?: string): void {
    // `optional [Clamp] unsigned short code, optional USVString reason`.
    const closeCode = code === undefined ? undefined : toUnsignedShort(code, 'WebSocket.close: code', { clamp: true });
    const closeReason = reason === undefined ? '' : toUsvString(reason);
    validateCloseCodeAndReason(closeCode, closeReason);
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
    void this.#connection?.close(closeCode ?? (closeReason === '' ? undefined : CloseCode.Normal), closeReason).catch(() => undefined);
  }

  get onmessage(): WebSocketEventHandler<MessageEvent> {
    return this.#handlers.get('message') as WebSocketEventHandler<MessageEvent>;
  }

  set onmessage(handler: WebSocketEventHandler<MessageEvent>) {
    this.#handlers.set('message', handler);
  }

  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    // An enumeration attribute: "If V is not one of the enumeration's values", the assignment
    // is ignored (after the value was converted to a string, which may throw).
    const type = toDomString(value);
    if (BINARY_TYPES.has(type)) this.#binaryType = type as BinaryType;
  }

  /**
   * `send((BufferSource or Blob or USVString) data)`: a string as text; an ArrayBuffer, a view
   * or a Blob as binary; any other value converted to a string. Throws an `InvalidStateError`
   * DOMException while CONNECTING; after the closing handshake started, the data is discarded
   * (and counted in `bufferedAmount`).
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    requireArguments(arguments.length, 1, 'WebSocket.send');
    const message = toOutgoingMessage(data);
    // "If this's ready state is CONNECTING, then throw an "InvalidStateError" DOMException."
    if (this.readyState === ConnectionState.Connecting) {
      throw new DOMException('Cannot send while the WebSocket is CONNECTING', 'InvalidStateError');
    }
    this.#outgoing.send(message);
  }

  async #open(options: WebSocketOptions, protocols: readonly string[]): Promise<void> {
    let connection: ClientConnection;
    try {
      connection = await establishWebSocketConnection(this.#target, options, protocols, this.#abort.signal);
      if (this.#abort.signal.aborted) {
        abandonConnection(connection);
        throw new DOMException('The connection was closed before it opened', 'AbortError');
      }
    } catch (error) {
      this.#failure = error;
      this.#onClose(CloseCode.Abnormal, '', false);
      return;
    }
    this.#connection = connection;
    this.#outgoing.attach(connection);
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
    // "...with the origin attribute initialized to the serialization of the WebSocket object's
    // url's origin" (a `ws+unix:` URL has an opaque origin, serialized as "null").
    const origin = this.#target.socketPath === undefined ? this.#target.url.origin : 'null';
    this.dispatchEvent(new MessageEvent('message', { data: payload, origin }));
  };

  #onClose(code: number, reason: string, wasClean: boolean): void {
    this.#readyState = ConnectionState.Closed;
    this.#forgetSignal?.();
    this.#outgoing.discard();
    // "If the user agent was required to fail the WebSocket connection ... fire an event named
    // error". As Node's built-in WebSocket does, that includes every close without a close
    // frame from the server (1006).
    if (this.#failure !== undefined || code === CloseCode.Abnormal) {
      const error = this.#failure ?? new Error(reason === '' ? 'The connection closed abnormally' : reason);
      this.dispatchEvent(new ErrorEvent('error', { error, message: error instanceof Error ? error.message : String(error) }));
    }
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
  }
}

// The typed overloads of lib.dom's WebSocket, so that `event` is a MessageEvent in
// `addEventListener('message', (event) => ...)`. Type-only: EventTarget implements both.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface WebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: WebSocketEventListener<WebSocketEventMap[K]> | null,
    options?: AddListenerOptions,
  ): void;
  addEventListener(type: string, listener: AnyListener | null, options?: AddListenerOptions): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: WebSocketEventListener<WebSocketEventMap[K]> | null,
    options?: RemoveListenerOptions,
  ): void;
  removeEventListener(type: string, listener: AnyListener | null, options?: RemoveListenerOptions): void;
}

defineInterface(WebSocket, {
  name: 'WebSocket',
  length: 1,
  constants: { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 },
  attributes: ['url', 'readyState', 'bufferedAmount', 'onopen', 'onerror', 'onclose', 'extensions', 'protocol', 'onmessage', 'binaryType'],
  operations: { close: 0, send: 1 },
});

/**
 * The second and third constructor arguments. The second is WebIDL's
 * `(DOMString or sequence<DOMString>)`, extended (as undici extends it) with the options: undefined
 * and null are no protocols, an iterable object is a list, another object is the options, and
 * anything else is converted to one protocol name. The third, a Node extra, is the options when
 * it is an object; anything else is ignored, as WebIDL ignores arguments past the declared ones.
 */
function toProtocolsAndOptions(protocols: unknown, options: unknown): { protocolList: string[]; settings: WebSocketOptions } {
  let settings = (isObject(options) ? options : {}) as WebSocketOptions;
  let protocolValue: unknown = protocols;
  if (protocols === undefined || protocols === null) {
    protocolValue = settings.protocols;
  } else if (isObject(protocols) && !isIterableObject(protocols)) {
    settings = protocols as WebSocketOptions;
    protocolValue = settings.protocols;
  }
  let protocolList: string[] = [];
  if (isIterableObject(protocolValue)) protocolList = toStringSequence(protocolValue, 'WebSocket constructor: protocols');
  else if (protocolValue !== undefined && protocolValue !== null) protocolList = [toDomString(protocolValue)];
  return { protocolList, settings };
}

/**
 * WebIDL's `(BufferSource or Blob or USVString)`: an ArrayBuffer or a view of one, a Blob, and
 * anything else converted to a string (whose lone surrogates UTF-8 encoding turns into U+FFFD).
 */
function toOutgoingMessage(data: unknown): OutgoingMessage {
  if (isObject(data)) {
    const bytes = toBufferSource(data, 'WebSocket.send: data');
    if (bytes !== undefined) return bytes;
    if (data instanceof Blob) return data;
  }
  return toDomString(data);
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  const buffer = data.buffer;
  if (buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength) return buffer;
  return new Uint8Array(data).buffer;
}
