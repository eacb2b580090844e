import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import {
  ClientProtocol,
  CloseCode,
  ConnectionClosedError,
  type ConnectionState,
  InvalidStateError,
  type ProtocolLimits,
} from '@ws/core';
import { type BackpressurePolicy, Connection, type SendData, type SendOptions, SendStatus } from '@ws/core/node';
import type { HandshakeResult } from './connect/client-handshake.js';
import { Heartbeat, type HeartbeatOptions } from './heartbeat.js';
import { createMessageIterator, type Message, type MessageSource, messageSourceOf } from './message-iterator.js';
import { PingTimeoutError } from './ping-timeout-error.js';

/** How a connection ended. `code` is 1005 when the server's close frame had none, 1006 when none came. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export interface ClientConnectionEvents {
  /** A whole message; `data` is a Buffer for text too (decode it with `toString()`). */
  message: [data: Buffer, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  close: [code: number, reason: string, wasClean: boolean];
  /** The server broke the protocol (a `ProtocolError`); only emitted when a listener is attached. */
  error: [error: Error];
  /** The transport has written everything that backed it up. */
  drain: [];
}

export interface ClientConnectionOptions extends ProtocolLimits {
  /** How long to wait for the server to end the closing handshake, in ms. Default 5000. */
  readonly closeTimeout?: number;
  /** Outgoing messages longer than this are sent as fragments of this size. Default: no fragmentation. */
  readonly fragmentSize?: number;
  /** `bufferedAmount` past which `onBackpressure` applies. Default 16 MiB. */
  readonly maxBufferedAmount?: number;
  /** What `send` does past `maxBufferedAmount`: `wait` (default), `drop` or `close` (1008). */
  readonly onBackpressure?: BackpressurePolicy;
  /** Ping the server periodically and give the connection up when pongs stop. Off by default. */
  readonly heartbeat?: HeartbeatOptions | boolean;
  /** Messages an iterator may hold unread before reading from the socket pauses. Default 16. */
  readonly maxQueuedMessages?: number;
}

export interface PingOptions {
  /** Reject with `PingTimeoutError` when no pong comes within this many ms. Default: wait until close. */
  readonly timeout?: number;
}

const DEFAULT_MAX_QUEUED_MESSAGES = 16;
/** Codes after which an iteration ends normally instead of throwing. */
const NORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.Normal, CloseCode.GoingAway, CloseCode.NoStatusReceived]);

interface PendingPing {
  readonly sentAt: number;
  readonly resolve: (roundTrip: number) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * An open client connection with a promise API: `send`/`sendAsync`, `for await` over
 * messages, `ping()` measuring the round trip, `close()` resolving once the closing handshake
 * is done. Made by `connect()`; wraps `@ws/core/node`'s `Connection`, which does the work.
 *
 * Reading starts on the next turn of the event loop after `connect()` resolves (or at
 * `start()`), so listeners and iterators attached right after `await connect()` see every
 * message, including any that arrived with the handshake response.
 */
export class ClientConnection extends EventEmitter<ClientConnectionEvents> implements AsyncIterable<Message> {
  readonly #connection: Connection;
  readonly #head: Buffer;
  readonly #url: string;
  readonly #responseHeaders: Readonly<Record<string, string | string[]>>;
  readonly #maxQueuedMessages: number;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #closed: Promise<CloseInfo>;
  readonly #pendingPings = new Map<number, PendingPing>();
  /** An iterator holds too many unread messages: reading stops until it catches up. */
  #iteratorsFull = false;
  readonly #messageSource: MessageSource;

  #resolveClosed!: (info: CloseInfo) => void;
  #closeInfo: CloseInfo | undefined;
  #protocolError: Error | undefined;
  #closeRequested = false;
  #started = false;
  #userPaused = false;
  #pingSequence = 0;
  #latency: number | undefined;

  constructor(handshake: HandshakeResult, options: ClientConnectionOptions = {}) {
    super();
    const protocol = new ClientProtocol({
      maxFrameSize: options.maxFrameSize,
      maxMessageSize: options.maxMessageSize,
      maxPendingPongs: options.maxPendingPongs,
      // The application may still answer the messages that came before the server's close.
      deferCloseEcho: true,
      // Negotiated in the handshake (permessage-deflate); the protocol disposes them when the transport is gone.
      extensions: handshake.negotiatedExtensions,
    });
    this.#connection = new Connection(handshake.socket, protocol, {
      closeTimeout: options.closeTimeout,
      fragmentSize: options.fragmentSize,
      maxBufferedAmount: options.maxBufferedAmount,
      onBackpressure: options.onBackpressure,
      protocol: handshake.protocol,
      extensions: handshake.extensions,
    });
    this.#head = handshake.head;
    this.#url = handshake.url.href;
    this.#responseHeaders = handshake.response.headers;
    this.#maxQueuedMessages = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    if (!(this.#maxQueuedMessages >= 1)) {
      throw new InvalidStateError('maxQueuedMessages must be at least 1', 'maxQueuedMessages');
    }
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#messageSource = messageSourceOf(this, {
      maxQueuedMessages: this.#maxQueuedMessages,
      hasEnded: () => this.#closeInfo !== undefined,
      endFailure: () => this.#iterationFailure(),
      onBackpressure: (anyIteratorFull) => {
        this.#iteratorsFull = anyIteratorFull;
        this.#applyPause();
      },
    });
    if (options.heartbeat !== undefined && options.heartbeat !== false) {
      this.#heartbeat = new Heartbeat(this, options.heartbeat === true ? {} : options.heartbeat);
    }

    const connection = this.#connection;
    connection.on('message', (data, isBinary) => this.emit('message', data, isBinary));
    connection.on('ping', (data) => this.emit('ping', data));
    connection.on('pong', this.#onPong);
    connection.on('drain', () => this.emit('drain'));
    connection.on('error', (error) => {
      this.#protocolError ??= error;
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    connection.on('close', this.#onClose);
  }

  /** Starts reading from the server. `connect()` calls it on the next turn of the event loop; calling it again does nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#connection.start(this.#head);
    // The handshake left the socket paused so that no frame was read before anyone listened.
    this.#applyPause();
    this.#heartbeat?.start();
  }

  /** The URL connected to (after any redirects). */
  get url(): string {
    return this.#url;
  }

  /** The subprotocol the server selected ('' when none). */
  get protocol(): string {
    return this.#connection.protocol;
  }

  /** The extensions in use, as the server's `Sec-WebSocket-Extensions` value ('' when none). */
  get extensions(): string {
    return this.#connection.extensions;
  }

  /** The headers of the server's 101 response (e.g. `set-cookie`). */
  get responseHeaders(): Readonly<Record<string, string | string[]>> {
    return this.#responseHeaders;
  }

  get readyState(): ConnectionState {
    return this.#connection.readyState;
  }

  /** Bytes handed to the transport and not yet written by it. */
  get bufferedAmount(): number {
    return this.#connection.bufferedAmount;
  }

  /** The round trip of the last answered ping, in ms (undefined until one was answered). */
  get latency(): number | undefined {
    return this.#latency;
  }

  /** The transport. */
  get socket(): Connection['socket'] {
    return this.#connection.socket;
  }

  /** Resolves with how the connection ended, once it has. Never rejects. */
  get closed(): Promise<CloseInfo> {
    return this.#closed;
  }

  /** Sends a message (a string as text, bytes as binary unless `options.binary` says otherwise). */
  send(data: SendData, options?: SendOptions): SendStatus {
    return this.#connection.send(data, options);
  }

  /** Sends a message and resolves once the transport is not backed up; rejects with `ConnectionClosedError`. */
  sendAsync(data: SendData, options?: SendOptions): Promise<void> {
    return this.#connection.sendAsync(data, options);
  }

  /** Sends a message of unknown length, fragment by fragment, from an async iterable. */
  sendStream(source: AsyncIterable<SendData>, options?: Omit<SendOptions, 'fin'>): Promise<void> {
    return this.#connection.sendStream(source, options);
  }

  /**
   * Pings the server and resolves with the round-trip time in ms once its pong arrives (which
   * also updates `latency`). Rejects with `ConnectionClosedError` if the connection closes first
   * and with `PingTimeoutError` after `options.timeout`.
   */
  ping(options: PingOptions = {}): Promise<number> {
    const sequence = (this.#pingSequence = (this.#pingSequence + 1) >>> 0);
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(sequence);
    if (this.#connection.ping(payload) === SendStatus.Closed) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      const timeout = options.timeout;
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(() => {
              this.#pendingPings.delete(sequence);
              reject(new PingTimeoutError(timeout));
            }, timeout);
      timer?.unref?.();
      this.#pendingPings.set(sequence, { sentAt: performance.now(), resolve, reject, timer });
    });
  }

  /** Sends an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3). */
  pong(data?: Buffer | Uint8Array | string): SendStatus {
    return this.#connection.pong(data);
  }

  /**
   * Starts the closing handshake and resolves once it is over and the transport is closed (at
   * most `closeTimeout` later). Rejects with `InvalidStateError` for a code that may not be sent
   * (RFC 6455 §7.4) or a reason over 123 bytes. Closing a closed connection resolves at once.
   */
  close(code?: number, reason?: string): Promise<CloseInfo> {
    try {
      this.#connection.close(code, reason);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closeRequested = true;
    return this.#closed;
  }

  /** Destroys the transport without a closing handshake; `close` reports 1006 and `reason`. */
  terminate(reason?: string): void {
    this.#closeRequested = true;
    this.#connection.terminate(reason);
  }

  /** Stops reading from the socket (TCP backpressure reaches the server). */
  pause(): void {
    this.#userPaused = true;
    this.#applyPause();
  }

  resume(): void {
    this.#userPaused = false;
    this.#applyPause();
  }

  get isPaused(): boolean {
    return this.#connection.isPaused;
  }

  /**
   * The messages from now on, text as strings and binary as Buffers. The iteration ends when
   * the connection closes normally (1000, 1001, 1005, or any close this side started) and
   * throws `ConnectionClosedError` otherwise. While it holds `maxQueuedMessages` unread,
   * reading pauses. Leaving the loop early does not close the connection.
   */
  messages(): AsyncIterableIterator<Message> {
    return createMessageIterator(this.#messageSource);
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return this.messages();
  }

  #applyPause(): void {
    if (!this.#started || this.#closeInfo !== undefined) return;
    const shouldPause = this.#userPaused || this.#iteratorsFull;
    if (shouldPause) this.#connection.pause();
    else this.#connection.resume();
  }

  #iterationFailure(): ConnectionClosedError | undefined {
    const info = this.#closeInfo;
    if (info === undefined) return undefined;
    if (this.#closeRequested || (NORMAL_CLOSE_CODES.has(info.code) && this.#protocolError === undefined)) return undefined;
    return new ConnectionClosedError(info.code, info.reason, info.wasClean);
  }

  #closedError(): ConnectionClosedError {
    const info = this.#closeInfo;
    if (info !== undefined) return new ConnectionClosedError(info.code, info.reason, info.wasClean);
    return new ConnectionClosedError(CloseCode.Abnormal, 'The connection is closing', false);
  }

  readonly #onPong = (data: Buffer): void => {
    // RFC 6455 §5.5.3: a server that received several pings before it could answer "MAY elect
    // to send a Pong frame for only the most recently processed Ping frame", so a pong answers
    // its own ping and every earlier one.
    if (data.length === 4 && this.#pendingPings.size > 0) {
      const answered = data.readUInt32BE(0);
      if (this.#pendingPings.has(answered)) {
        const now = performance.now();
        for (const [sequence, pending] of this.#pendingPings) {
          this.#pendingPings.delete(sequence);
          if (pending.timer !== undefined) clearTimeout(pending.timer);
          const roundTrip = now - pending.sentAt;
          if (sequence === answered) this.#latency = roundTrip;
          pending.resolve(roundTrip);
          if (sequence === answered) break;
        }
      }
    }
    this.emit('pong', data);
  };

  readonly #onClose = (code: number, reason: string, wasClean: boolean): void => {
    const info: CloseInfo = { code, reason, wasClean };
    this.#closeInfo = info;
    this.#heartbeat?.stop();
    const error = this.#closedError();
    for (const pending of this.#pendingPings.values()) {
      if (pending.timer !== undefined) clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pendingPings.clear();
    this.#resolveClosed(info);
    this.emit('close', code, reason, wasClean);
  };
}
