import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  ConnectionClosedError,
  ConnectionState,
  InvalidStateError,
  type MessagePieceReceived,
  type OutgoingData,
  type Protocol,
  type ProtocolEvent,
  SEND_EOF,
} from '@ws/core';
import { BackpressurePolicy, SendStatus } from './send-status.js';

export interface ConnectionOptions {
  /** How long to wait for the peer to finish the closing handshake before destroying the transport. Default 5000 ms. */
  readonly closeTimeout?: number;
  /**
   * Outgoing messages longer than this many bytes are sent as several frames of at most this
   * size. Default `Infinity` (no fragmentation); `@ws/server` sets its own default.
   */
  readonly fragmentSize?: number;
  /** `bufferedAmount` past which `onBackpressure` applies. Default 16 MiB. */
  readonly maxBufferedAmount?: number;
  /** What `send` does past `maxBufferedAmount`. Default `wait`. */
  readonly onBackpressure?: BackpressurePolicy;
  /** The subprotocol and extensions the handshake agreed on, for the application to read. */
  readonly protocol?: string;
  readonly extensions?: string;
}

export interface SendOptions {
  /** Send as a binary message. Default: true for bytes, false for strings. */
  readonly binary?: boolean;
  /** False leaves the message open: further `send` calls add fragments until one with `fin: true`. */
  readonly fin?: boolean;
  /** False sends this message untransformed by a negotiated compression extension. */
  readonly compress?: boolean;
}

export type SendData = string | Buffer | Uint8Array | ArrayBuffer | ArrayBufferView;

/** The events of a {@link Connection}, for typed `on`/`once`. */
export interface ConnectionEvents {
  /** A whole message (receive mode `message`). */
  message: [data: Buffer, isBinary: boolean];
  /** A piece of a message as it arrives (receive mode `stream`). */
  piece: [piece: MessagePieceReceived];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** The transport is gone. `code` is the peer's close code, 1005 when it gave none, 1006 when no close frame came. */
  close: [code: number, reason: string, wasClean: boolean];
  /**
   * The peer broke the protocol (a `ProtocolError`, with its `closeCode` already sent). Only
   * emitted when a listener is attached: a hostile peer never crashes the process.
   */
  error: [error: Error];
  /** The transport has written everything that backed it up. */
  drain: [];
}

const DEFAULT_CLOSE_TIMEOUT = 5_000;
const DEFAULT_MAX_BUFFERED_AMOUNT = 16 * 1024 * 1024;

/**
 * Binds a sans-I/O {@link Protocol} to a Node Duplex (a net or TLS socket, or any Duplex).
 *
 * After every input it runs one pump: flush the protocol's output (automatic pongs and close
 * echoes reach the wire first), arm the close timer if a close is expected, then deliver the
 * events. Everything the application sends while events are being delivered leaves in one
 * write at the end of the pump: a burst of incoming messages gets its replies in one syscall,
 * while a message sent on its own is written at once.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly #socket: Duplex;
  readonly #protocol: Protocol;
  readonly #closeTimeout: number;
  /**
   * The limits, `undefined` for none (Infinity): a field holding a double such as Infinity
   * costs each connection a boxed number, a field holding `undefined` costs nothing.
   */
  readonly #fragmentSize: number | undefined;
  readonly #maxBufferedAmount: number | undefined;
  readonly #onBackpressure: BackpressurePolicy;
  readonly #subprotocol: string;
  readonly #extensions: string;

  #readyState: ConnectionState = ConnectionState.Open;
  #started = false;
  #delivering = false;
  #sendingFragmented = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #terminateReason: string | undefined;
  #closeEvent: ConnectionClosedError | undefined;
  #drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] | undefined;

  constructor(socket: Duplex, protocol: Protocol, options: ConnectionOptions = {}) {
    super();
    this.#socket = socket;
    this.#protocol = protocol;
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    const fragmentSize = options.fragmentSize ?? Infinity;
    const maxBufferedAmount = options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT;
    this.#fragmentSize = fragmentSize === Infinity ? undefined : fragmentSize;
    this.#maxBufferedAmount = maxBufferedAmount === Infinity ? undefined : maxBufferedAmount;
    this.#onBackpressure = options.onBackpressure ?? BackpressurePolicy.Wait;
    this.#subprotocol = options.protocol ?? '';
    this.#extensions = options.extensions ?? '';
    if (!(fragmentSize > 0)) throw new InvalidStateError('fragmentSize must be positive', 'fragmentSize');
  }

  /**
   * Starts reading. `head` holds bytes that arrived with the handshake (Node's `'upgrade'`
   * event hands them over); they are fed to the protocol before the first socket `'data'`.
   * Call it once the application's listeners are attached.
   */
  start(head?: Buffer): void {
    if (this.#started) return;
    this.#started = true;
    const socket = this.#socket;
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    if ('setTimeout' in socket && typeof socket.setTimeout === 'function') socket.setTimeout(0);
    // The listeners are shared by every connection (they find theirs through the socket), so
    // an idle connection costs no closures.
    (socket as unknown as SocketWithConnection)[kConnection] = this;
    socket.on('data', Connection.#onSocketData);
    socket.on('end', Connection.#onSocketEnd);
    socket.on('close', Connection.#onSocketClose);
    socket.on('error', ignoreTransportError);
    socket.on('drain', Connection.#onSocketDrain);
    if (socket.destroyed) {
      queueMicrotask(() => this.#closed());
      return;
    }
    if (head !== undefined && head.length > 0) this.#receive(head);
  }

  get readyState(): ConnectionState {
    return this.#readyState;
  }

  /** The subprotocol the handshake selected ('' when none). */
  get protocol(): string {
    return this.#subprotocol;
  }

  /** The extensions the handshake agreed on, as the `Sec-WebSocket-Extensions` value ('' when none). */
  get extensions(): string {
    return this.#extensions;
  }

  /** Bytes handed to the transport and not yet written by it. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  get socket(): Duplex {
    return this.#socket;
  }

  /**
   * Sends a message (or, with `fin: false`, the first or next fragment of one). Returns what
   * became of it; never throws for a closed connection (it reports `closed`).
   */
  send(data: SendData, options?: SendOptions): SendStatus {
    if (!this.#canSend()) return SendStatus.Closed;
    const limited = this.#applyBackpressurePolicy();
    if (limited !== undefined) return limited;
    const isBinary = options?.binary ?? typeof data !== 'string';
    const payload = typeof data === 'string' ? (isBinary ? Buffer.from(data, 'utf8') : data) : toBuffer(data);
    const fin = options?.fin ?? true;
    const compress = options?.compress;
    const fragmented = this.#fragmentSize !== undefined && !fitsInOneFrame(payload, this.#fragmentSize);
    if (fragmented && typeof payload === 'string') {
      this.#sendFragmented(Buffer.from(payload, 'utf8'), isBinary, fin, compress);
    } else if (fragmented) {
      this.#sendFragmented(payload as Buffer, isBinary, fin, compress);
    } else {
      this.#sendFrame(payload, isBinary, fin, compress);
    }
    this.#flushUnlessDelivering();
    return this.#socket.writableNeedDrain ? SendStatus.Queued : SendStatus.Sent;
  }

  /**
   * Sends a message and resolves once the transport is not backed up; rejects with
   * `ConnectionClosedError` if the connection closes first or was closed already. Past
   * `maxBufferedAmount` it waits for the transport to drain instead of dropping the message:
   * awaiting it is the backpressure.
   */
  async sendAsync(data: SendData, options?: SendOptions): Promise<void> {
    while (this.#canSend() && this.#overBufferLimit() && this.#onBackpressure !== BackpressurePolicy.Close) {
      await this.#drained();
    }
    const status = this.send(data, options);
    if (status === SendStatus.Closed) throw this.#closedError();
    if (status === SendStatus.Queued) await this.#drained();
  }

  /**
   * Sends a message of unknown length from an async iterable (a Readable, a generator): each
   * chunk leaves as a fragment as soon as it arrives, and an empty final fragment ends the
   * message. Control frames and other work interleave between fragments. If the source fails,
   * the connection is closed with 1011 (the message cannot be finished) and the error rethrown.
   */
  async sendStream(source: AsyncIterable<SendData>, options?: Omit<SendOptions, 'fin'>): Promise<void> {
    try {
      for await (const chunk of source) await this.sendAsync(chunk, { ...options, fin: false });
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) this.close(CloseCode.InternalError, 'Message source failed');
      throw error;
    }
    await this.sendAsync(Buffer.alloc(0), { ...options, fin: true });
  }

  #drained(): Promise<void> {
    return new Promise((resolve, reject) => (this.#drainWaiters ??= []).push({ resolve, reject }));
  }

  /** Sends a ping (at most 125 bytes of application data). */
  ping(data: Buffer | Uint8Array | string = Buffer.alloc(0)): SendStatus {
    if (!this.#canSend()) return SendStatus.Closed;
    this.#protocol.sendPing(data);
    this.#flushUnlessDelivering();
    return SendStatus.Sent;
  }

  /** Sends an unsolicited pong (a unidirectional heartbeat, RFC 6455 §5.5.3). */
  pong(data: Buffer | Uint8Array | string = Buffer.alloc(0)): SendStatus {
    if (!this.#canSend()) return SendStatus.Closed;
    this.#protocol.sendPong(data);
    this.#flushUnlessDelivering();
    return SendStatus.Sent;
  }

  /**
   * Starts the closing handshake. Throws InvalidStateError for a code that may not be sent or
   * a reason longer than 123 bytes; does nothing once closing has started.
   */
  close(code?: number, reason?: string): void {
    if (!this.#canSend()) return;
    this.#protocol.sendClose(code, reason);
    this.#readyState = ConnectionState.Closing;
    this.#flushUnlessDelivering();
  }

  /**
   * Destroys the transport at once, without a closing handshake. The `close` event reports
   * 1006 and `reason` (e.g. why a heartbeat gave up on the peer).
   */
  terminate(reason = ''): void {
    if (this.#readyState === ConnectionState.Closed) return;
    this.#terminateReason ??= reason;
    this.#readyState = ConnectionState.Closing;
    this.#socket.destroy();
  }

  /** Stops reading from the transport (TCP backpressure reaches the peer). */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  get isPaused(): boolean {
    return this.#socket.isPaused();
  }

  /** Writes bytes that already form complete frames (a broadcast frames its message once for every recipient). */
  sendFrames(frames: Buffer): SendStatus {
    if (!this.#canSend()) return SendStatus.Closed;
    if (this.#sendingFragmented) {
      throw new InvalidStateError('A fragmented message is being sent', 'open');
    }
    const limited = this.#applyBackpressurePolicy();
    if (limited !== undefined) return limited;
    this.#protocol.sendRaw(frames);
    this.#flushUnlessDelivering();
    return this.#socket.writableNeedDrain ? SendStatus.Queued : SendStatus.Sent;
  }

  // ---- Sending -----------------------------------------------------------------------------

  /**
   * Data may be sent until our close frame is sent: also after the peer's close frame arrived,
   * while its echo is held back so the application can answer the messages that preceded it.
   */
  #canSend(): boolean {
    return !this.#protocol.closeSent && this.#readyState !== ConnectionState.Closed && !this.#socket.destroyed;
  }

  /** Past `maxBufferedAmount`: what `drop` or `close` makes of a send; undefined to go on (`wait`, or under the limit). */
  #applyBackpressurePolicy(): SendStatus | undefined {
    if (!this.#overBufferLimit()) return undefined;
    if (this.#onBackpressure === BackpressurePolicy.Drop) return SendStatus.Dropped;
    if (this.#onBackpressure === BackpressurePolicy.Close) {
      this.close(CloseCode.PolicyViolation, 'Send buffer limit exceeded');
      return SendStatus.Closed;
    }
    return undefined;
  }

  #overBufferLimit(): boolean {
    return this.#maxBufferedAmount !== undefined && this.#socket.writableLength > this.#maxBufferedAmount;
  }

  #sendFrame(payload: Buffer | string, isBinary: boolean, fin: boolean, compress: boolean | undefined): void {
    // The common case (a whole message, default compression) passes no options object: one
    // allocation less per message.
    const options = fin && compress === undefined ? undefined : { fin, compress };
    if (this.#sendingFragmented) this.#protocol.sendContinuation(payload, options);
    else if (isBinary) this.#protocol.sendBinary(payload as Buffer, options);
    else this.#protocol.sendText(payload, options);
    this.#sendingFragmented = !fin;
  }

  #sendFragmented(payload: Buffer, isBinary: boolean, fin: boolean, compress: boolean | undefined): void {
    const size = this.#fragmentSize!;
    for (let offset = 0; offset < payload.length; offset += size) {
      const end = Math.min(offset + size, payload.length);
      this.#sendFrame(payload.subarray(offset, end), isBinary, fin && end === payload.length, compress);
    }
  }

  // ---- The pump ----------------------------------------------------------------------------

  static #onSocketData(this: Duplex, chunk: Buffer): void {
    connectionOf(this).#receive(chunk);
  }

  static #onSocketEnd(this: Duplex): void {
    const connection = connectionOf(this);
    connection.#protocol.receiveEof();
    connection.#pump();
  }

  static #onSocketDrain(this: Duplex): void {
    const connection = connectionOf(this);
    connection.#protocol.outputDrained();
    const waiters = connection.#drainWaiters;
    connection.#drainWaiters = undefined;
    if (waiters !== undefined) for (const waiter of waiters) waiter.resolve();
    connection.emit('drain');
  }

  static #onSocketClose(this: Duplex): void {
    connectionOf(this).#closed();
  }

  #receive(chunk: Buffer): void {
    this.#protocol.receiveData(chunk);
    this.#pump();
  }

  #closed(): void {
    if (this.#readyState === ConnectionState.Closed) return;
    this.#protocol.receiveEof();
    this.#protocol.dataToSend();
    this.#readyState = ConnectionState.Closed;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    const socket = this.#socket;
    socket.off('data', Connection.#onSocketData);
    socket.off('end', Connection.#onSocketEnd);
    socket.off('drain', Connection.#onSocketDrain);
    socket.off('close', Connection.#onSocketClose);
    // The 'error' listener stays: a late transport error must not find the socket without one.
    const error = this.#closedError();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = undefined;
    if (waiters !== undefined) for (const waiter of waiters) waiter.reject(error);
    // Whatever events the last pump produced (a final message before EOF) go first.
    this.#deliver(this.#protocol.eventsReceived());
    this.emit('close', error.closeCode, error.reason, error.wasClean);
  }

  #pump(): void {
    const protocol = this.#protocol;
    if (protocol.hasDataToSend) this.#flush(protocol.dataToSend());
    if (protocol.closeExpected()) {
      this.#readyState = ConnectionState.Closing;
      this.#armCloseTimer();
    }
    const events = protocol.eventsReceived();
    if (events.length === 0) return;
    this.#delivering = true;
    try {
      this.#deliver(events);
    } finally {
      this.#delivering = false;
      this.#flushUnlessDelivering();
    }
    if (protocol.closeEchoPending) setImmediate(Connection.#sendCloseEcho, this);
  }

  /**
   * Replies to the peer's close frame one turn of the event loop after the events that came
   * with it were delivered: listeners and promise-based consumers (async iterators) alike have
   * answered the messages that preceded the close by then.
   */
  static #sendCloseEcho(connection: Connection): void {
    connection.#protocol.sendCloseEcho();
    connection.#flushUnlessDelivering();
  }

  #deliver(events: readonly ProtocolEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'message':
          this.emit('message', event.data, event.isBinary);
          break;
        case 'piece':
          this.emit('piece', event);
          break;
        case 'ping':
          this.emit('ping', event.data);
          break;
        case 'pong':
          this.emit('pong', event.data);
          break;
        case 'close':
          this.#readyState = ConnectionState.Closing;
          break;
        case 'error':
          if (this.listenerCount('error') > 0) this.emit('error', event.error);
          break;
      }
    }
  }

  #flushUnlessDelivering(): void {
    if (this.#delivering || !this.#protocol.hasDataToSend) return;
    this.#flush(this.#protocol.dataToSend());
    if (this.#protocol.closeExpected()) this.#armCloseTimer();
  }

  #flush(output: OutgoingData[]): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    let blocked = false;
    if (output.length === 1 && output[0] !== SEND_EOF) {
      blocked = !socket.write(output[0]);
    } else {
      socket.cork();
      for (const data of output) {
        if (data === SEND_EOF) socket.end();
        else if (!socket.writableEnded) blocked = !socket.write(data) || blocked;
      }
      socket.uncork();
    }
    if (!blocked) this.#protocol.outputDrained();
  }

  #armCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#readyState === ConnectionState.Closed) return;
    // RFC 6455 §7.1.1: an endpoint waits for the peer to close the TCP connection, but not forever.
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), this.#closeTimeout);
    this.#closeTimer.unref?.();
  }

  #closedError(): ConnectionClosedError {
    if (this.#closeEvent !== undefined) return this.#closeEvent;
    const protocol = this.#protocol;
    const received = protocol.closeReceived;
    const error =
      this.#terminateReason !== undefined && received === undefined
        ? new ConnectionClosedError(CloseCode.Abnormal, this.#terminateReason, false)
        : new ConnectionClosedError(protocol.closeCode, protocol.closeReason, protocol.wasClean);
    if (this.#readyState === ConnectionState.Closed) this.#closeEvent = error;
    return error;
  }
}

const kConnection = Symbol('ws.connection');

interface SocketWithConnection {
  [kConnection]: Connection;
}

function connectionOf(socket: Duplex): Connection {
  return (socket as unknown as SocketWithConnection)[kConnection];
}

/** A transport error (a reset, a TLS failure) ends in 'close'; the close code then says 1006. */
function ignoreTransportError(): void {}

/** `fragmentSize` counts bytes: a string is measured as UTF-8 (at most 3 bytes per UTF-16 unit) only when it could be too long. */
function fitsInOneFrame(payload: Buffer | string, fragmentSize: number): boolean {
  if (typeof payload !== 'string') return payload.length <= fragmentSize;
  return payload.length * 3 <= fragmentSize || Buffer.byteLength(payload, 'utf8') <= fragmentSize;
}

function toBuffer(data: Exclude<SendData, string>): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
