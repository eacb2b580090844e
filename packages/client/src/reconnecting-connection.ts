import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import {
  CloseCode,
  ConnectionClosedError,
  ConnectionState,
  encodeClosePayload,
  HandshakeError,
  InvalidStateError,
  ProtocolError,
} from '@ws/core';
import {
  type CloseInfo,
  DEFAULT_RECEIVE_HIGH_WATER_MARK,
  type Message,
  MessageInbox,
  type PingOptions,
  type SendData,
  type SendOptions,
  SendStatus,
  toBuffer,
} from '@ws/core/node';
import type { ClientConnection } from './client-connection.js';
import { resolveUrl } from './connect/resolve-url.js';
import type { ConnectOptions } from './connect.js';
import { openClientConnection } from './open-client-connection.js';
import { delayFor, type Disconnect, type ReconnectOptions, type ResolvedReconnectPolicy, resolveReconnectPolicy } from './reconnect-policy.js';

export interface ReconnectingConnectionOptions extends ConnectOptions {
  readonly reconnect?: ReconnectOptions | boolean;
}

export interface ReconnectingConnectionEvents {
  /** A connection opened: the first one, and each one after a reconnect. */
  open: [connection: ClientConnection];
  message: [data: Buffer, isBinary: boolean];
  /** A connection ended, or an attempt failed. */
  disconnect: [disconnect: Disconnect];
  /** A retry is scheduled in `delay` ms. */
  reconnecting: [attempt: number, delay: number, disconnect: Disconnect];
  /** A connection opened again after `attempt` failed attempts. */
  reconnected: [connection: ClientConnection, attempt: number];
  /** For good: after `close()`, a refusal, or the last allowed attempt. */
  close: [code: number, reason: string, wasClean: boolean];
  /**
   * The server broke the protocol (a `ProtocolError`); only emitted when a listener is attached.
   * Failed attempts and connections given up (a `HandshakeError`, a heartbeat's
   * `ConnectionError`) are not errors here: `disconnect` reports them.
   */
  error: [error: Error];
  drain: [];
}

interface QueuedMessage {
  readonly data: string | Buffer;
  readonly options: SendOptions | undefined;
  readonly byteLength: number;
  readonly settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
}

const ReconnectState = {
  Connecting: 'connecting',
  Open: 'open',
  Waiting: 'waiting',
  Closing: 'closing',
  Closed: 'closed',
} as const;

type ReconnectState = (typeof ReconnectState)[keyof typeof ReconnectState];

/**
 * A connection that reconnects by itself, with exponential backoff and jitter, until `close()`
 * is called or the policy gives up. Messages from every underlying connection arrive as one
 * stream (`'message'`, `for await`); sends while disconnected fail (`closed`) unless `queue` is
 * set, in which case they are held (within its bounds) and sent in order after reconnecting,
 * after the `'open'` listeners ran (so that they can authenticate first).
 */
export class ReconnectingConnection extends EventEmitter<ReconnectingConnectionEvents> implements AsyncIterable<Message> {
  readonly #url: string | URL;
  readonly #connectOptions: ConnectOptions;
  readonly #policy: ResolvedReconnectPolicy;
  readonly #queue: QueuedMessage[] = [];
  /** The `messages()` consumer holds too many unread bytes: reading stops until it catches up. */
  #iteratorsFull = false;
  readonly #inbox: MessageInbox;
  readonly #opened: Promise<ClientConnection>;
  readonly #closed: Promise<CloseInfo>;

  #resolveOpened!: (connection: ClientConnection) => void;
  #rejectOpened!: (error: Error) => void;
  #resolveClosed!: (info: CloseInfo) => void;
  #state: ReconnectState = ReconnectState.Connecting;
  #connection: ClientConnection | undefined;
  #attemptAbort: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #everOpened = false;
  #openedAt = 0;
  #queueBytes = 0;
  #closeRequested = false;
  #finalClose: CloseInfo | undefined;
  #lastError: Error | undefined;
  #latency: number | undefined;
  #forgetSignal: (() => void) | undefined;

  constructor(url: string | URL, options: ReconnectingConnectionOptions = {}) {
    super();
    resolveUrl(url);
    const { reconnect, ...connectOptions } = options;
    this.#url = url;
    this.#connectOptions = connectOptions;
    this.#policy = resolveReconnectPolicy(reconnect);
    this.#opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    // Whoever never awaits `opened` must not get an unhandled rejection for it.
    this.#opened.catch(() => undefined);
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#inbox = new MessageInbox({
      highWaterMark: connectOptions.receiveHighWaterMark ?? DEFAULT_RECEIVE_HIGH_WATER_MARK,
      setFull: (full) => {
        this.#iteratorsFull = full;
        this.#applyPause();
      },
    });
    const signal = connectOptions.signal;
    if (signal?.aborted === true) {
      this.#closeRequested = true;
      const aborted = new HandshakeError('WS_ERR_HANDSHAKE_ABORTED', 'The connection attempt was aborted', {
        status: 0,
        cause: signal.reason,
      });
      this.#finish({ code: CloseCode.Abnormal, reason: 'Aborted before connecting', wasClean: false }, aborted);
      return;
    }
    if (signal !== undefined) {
      const onAbort = (): void => void this.close(CloseCode.Normal);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#forgetSignal = () => signal.removeEventListener('abort', onAbort);
    }
    this.#connect();
  }

  /** Resolves with the first connection once it opened; rejects if the policy gave up before. */
  get opened(): Promise<ClientConnection> {
    return this.#opened;
  }

  /** Resolves once closed for good. Never rejects. */
  get closed(): Promise<CloseInfo> {
    return this.#closed;
  }

  /** The open connection, if there is one now. */
  get connection(): ClientConnection | undefined {
    return this.#connection;
  }

  /** CONNECTING while connecting or waiting to retry, then OPEN, CLOSING, CLOSED as usual. */
  get readyState(): ConnectionState {
    switch (this.#state) {
      case ReconnectState.Open:
        return ConnectionState.Open;
      case ReconnectState.Closing:
        return ConnectionState.Closing;
      case ReconnectState.Closed:
        return ConnectionState.Closed;
      default:
        return ConnectionState.Connecting;
    }
  }

  /** Consecutive failed attempts so far (0 while a stable connection is open). */
  get attempt(): number {
    return this.#attempt;
  }

  /** Messages waiting for a connection. */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  /** Bytes the open connection's transport holds, plus those waiting for a connection. */
  get bufferedAmount(): number {
    return (this.#connection?.bufferedAmount ?? 0) + this.#queueBytes;
  }

  /** The round trip of the last answered ping, in ms. */
  get latency(): number | undefined {
    return this.#connection?.latency ?? this.#latency;
  }

  /**
   * Sends on the open connection. While disconnected, queues the message when `queue` is on
   * (`queued`, or `dropped` past its bounds) and reports `closed` otherwise. A message may be
   * lost if the connection drops after it was handed to the transport.
   */
  send(data: SendData, options?: SendOptions): SendStatus {
    const connection = this.#connection;
    if (connection !== undefined && connection.readyState === ConnectionState.Open) return connection.send(data, options);
    return this.#enqueue(data, options, undefined);
  }

  /** Like `send`, resolving once the message was handed to a transport that is not backed up. */
  sendAsync(data: SendData, options?: SendOptions): Promise<void> {
    const connection = this.#connection;
    if (connection !== undefined && connection.readyState === ConnectionState.Open) return connection.sendAsync(data, options);
    return new Promise((resolve, reject) => {
      const status = this.#enqueue(data, options, { resolve, reject });
      if (status === SendStatus.Dropped) reject(new InvalidStateError('The send queue is full', 'disconnected'));
      else if (status === SendStatus.Closed) reject(this.#closedError());
    });
  }

  /** Pings over the open connection; rejects with `ConnectionClosedError` while disconnected. */
  ping(options?: PingOptions): Promise<number> {
    const connection = this.#connection;
    if (connection === undefined) return Promise.reject(this.#closedError());
    return connection.ping(options).then((roundTrip) => (this.#latency = roundTrip));
  }

  /**
   * Closes for good: no reconnect follows. Resolves once the open connection (if any) finished
   * its closing handshake. Rejects with `RangeError` for a code or reason that may not be sent.
   */
  close(code?: number, reason?: string): Promise<CloseInfo> {
    if (this.#state === ReconnectState.Closed || this.#closeRequested) return this.#closed;
    try {
      encodeClosePayload(code, reason);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closeRequested = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const connection = this.#connection;
    if (connection !== undefined) {
      this.#state = ReconnectState.Closing;
      void connection.close(code, reason);
    } else {
      this.#attemptAbort?.abort();
      this.#finish({ code: CloseCode.Abnormal, reason: 'Closed while not connected', wasClean: false }, undefined);
    }
    return this.#closed;
  }

  /** Messages from every connection, until closed for good; ends normally after `close()`. */
  messages(): AsyncIterableIterator<Message> {
    return this.#inbox.messages();
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return this.messages();
  }

  #connect(): void {
    this.#state = ReconnectState.Connecting;
    const abort = new AbortController();
    this.#attemptAbort = abort;
    openClientConnection(this.#url, { ...this.#connectOptions, signal: abort.signal }).then(
      (connection) => this.#onOpen(connection),
      (error: Error) => {
        if (this.#closeRequested) return;
        this.#onDisconnect({ code: CloseCode.Abnormal, reason: '', wasClean: false, error, attempt: this.#attempt });
      },
    );
  }

  #onOpen(connection: ClientConnection): void {
    this.#attemptAbort = undefined;
    if (this.#closeRequested) {
      void connection.close(CloseCode.GoingAway);
      return;
    }
    const attempt = this.#attempt;
    const isReconnect = this.#everOpened;
    this.#everOpened = true;
    this.#connection = connection;
    this.#state = ReconnectState.Open;
    this.#openedAt = performance.now();
    let protocolError: Error | undefined;
    connection.on('message', (data, isBinary) => {
      if (this.#inbox.isActive) this.#inbox.push({ data, isBinary, messageStart: true, messageEnd: true });
      this.emit('message', data, isBinary);
    });
    connection.on('drain', () => this.emit('drain'));
    connection.on('error', (error) => {
      protocolError = error;
      // A heartbeat timeout or a send buffer limit is a disconnect like any other (its
      // `ConnectionError` rides on the `disconnect` event); only a broken protocol is an error.
      if (error instanceof ProtocolError && this.listenerCount('error') > 0) this.emit('error', error);
    });
    connection.on('close', (code, reason, wasClean) => {
      this.#latency = connection.latency ?? this.#latency;
      this.#connection = undefined;
      if (performance.now() - this.#openedAt >= this.#policy.resetAfter) this.#attempt = 0;
      const disconnect = { code, reason, wasClean, error: protocolError, attempt: this.#attempt };
      if (this.#closeRequested) this.#finish({ code, reason, wasClean }, undefined);
      else this.#onDisconnect(disconnect);
    });
    this.#applyPause();
    this.emit('open', connection);
    if (isReconnect) this.emit('reconnected', connection, attempt);
    this.#resolveOpened(connection);
    this.#flushQueue(connection);
  }

  #onDisconnect(disconnect: Disconnect): void {
    this.#lastError = disconnect.error ?? this.#lastError;
    this.emit('disconnect', disconnect);
    if (this.#closeRequested || this.#state === ReconnectState.Closed) return;
    if (this.#attempt >= this.#policy.maxAttempts || !this.#policy.shouldReconnect(disconnect)) {
      this.#finish(disconnect, disconnect.error);
      return;
    }
    this.#attempt++;
    const delay = delayFor(this.#policy, this.#attempt);
    this.#state = ReconnectState.Waiting;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, delay);
    this.emit('reconnecting', this.#attempt, delay, disconnect);
  }

  #finish(info: CloseInfo, error: Error | undefined): void {
    if (this.#state === ReconnectState.Closed) return;
    this.#state = ReconnectState.Closed;
    this.#forgetSignal?.();
    this.#finalClose = { code: info.code, reason: info.reason, wasClean: info.wasClean };
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const closedError = new ConnectionClosedError(info.code, info.reason, info.wasClean);
    for (const message of this.#queue.splice(0)) message.settle?.reject(closedError);
    this.#queueBytes = 0;
    if (!this.#everOpened) this.#rejectOpened(error ?? this.#lastError ?? closedError);
    const failure = this.#iterationFailure();
    this.#inbox.end(failure ?? closedError, failure !== undefined);
    this.#resolveClosed(this.#finalClose);
    this.emit('close', info.code, info.reason, info.wasClean);
  }

  #enqueue(data: SendData, options: SendOptions | undefined, settle: QueuedMessage['settle']): SendStatus {
    const limits = this.#policy.queueLimits;
    if (limits === undefined || this.#closeRequested || this.#state === ReconnectState.Closed) return SendStatus.Closed;
    // A fragment cannot wait for another connection: the rest of its message went on the old one.
    if (options?.fin === false) return SendStatus.Closed;
    // Copied: the caller may reuse its memory as soon as send() returned.
    const copy = typeof data === 'string' ? data : Buffer.from(toBuffer(data));
    const byteLength = typeof copy === 'string' ? Buffer.byteLength(copy) : copy.length;
    if (this.#queue.length + 1 > limits.maxMessages || this.#queueBytes + byteLength > limits.maxBytes) {
      return SendStatus.Dropped;
    }
    const binary = options?.binary ?? typeof data !== 'string';
    this.#queue.push({ data: copy, options: { ...options, binary }, byteLength, settle });
    this.#queueBytes += byteLength;
    return SendStatus.Queued;
  }

  #flushQueue(connection: ClientConnection): void {
    while (this.#queue.length > 0 && connection.readyState === ConnectionState.Open) {
      const message = this.#queue.shift()!;
      this.#queueBytes -= message.byteLength;
      if (message.settle === undefined) connection.send(message.data, message.options);
      else connection.sendAsync(message.data, message.options).then(message.settle.resolve, message.settle.reject);
    }
  }

  #applyPause(): void {
    const connection = this.#connection;
    if (connection === undefined) return;
    if (this.#iteratorsFull) connection.pause();
    else connection.resume();
  }

  #iterationFailure(): ConnectionClosedError | undefined {
    const info = this.#finalClose;
    if (info === undefined || this.#closeRequested) return undefined;
    if (info.code === CloseCode.Normal || info.code === CloseCode.GoingAway || info.code === CloseCode.NoStatusReceived) {
      return undefined;
    }
    return new ConnectionClosedError(info.code, info.reason, info.wasClean);
  }

  #closedError(): ConnectionClosedError {
    const info = this.#finalClose;
    if (info !== undefined) return new ConnectionClosedError(info.code, info.reason, info.wasClean);
    return new ConnectionClosedError(CloseCode.Abnormal, 'Not connected', false);
  }
}
