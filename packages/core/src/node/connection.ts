import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  ConnectionClosedError,
  ConnectionState,
  encodeClosePayload,
  type Protocol,
  type ProtocolEvent,
} from '@ws/core';
import { abortTransport } from './abort-transport.js';
import { ConnectionError } from './connection-error.js';
import { PROTOCOL_WORK_BUDGET, type ResolvedConnectionOptions } from './connection-options.js';
import type { CloseInfo, ConnectionEvents, ConnectionSetup, PingOptions } from './connection-types.js';
import { type Heartbeat, kHeartbeatExempt, kHeartbeatPing, kHeartbeatTimedOut } from './heartbeat.js';
import { MessageInbox } from './message-inbox.js';
import { PingTracker } from './ping-tracker.js';
import { ReadPause } from './read-gate.js';
import type { Message, MessageIterator, ReceivedMessage } from './received-message.js';
import { type SendData, toBuffer } from './send-data.js';
import { kEmitDrain, SendPath, type SendOptions } from './send-path.js';
import { SendStatus } from './send-status.js';
import { kDeliver, kTransportClosed, kTransportDrained, TransportPump } from './transport-pump.js';

/** Close codes after which iterating over messages ends normally instead of throwing. */
const NORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.Normal, CloseCode.GoingAway, CloseCode.NoStatusReceived]);
const EMPTY = Buffer.alloc(0);

/**
 * One WebSocket connection over any Node Duplex (a TCP or TLS socket, an HTTP/2 stream): the
 * one engine both roles run on, with one API. A sans-I/O {@link Protocol} owns the state; a
 * {@link TransportPump} binds it to the transport; a {@link SendPath} is the one way out.
 * Reading stops while output backs up, while a `messages()` consumer is behind, while the
 * application paused it, for the rest of a turn once a turn's input budget is spent, and once
 * the connection failed.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly #pump: TransportPump;
  /** Made on the first send (see `#send`): most idle connections never need one. */
  #sendPath: SendPath | undefined;
  readonly #settings: ResolvedConnectionOptions;
  readonly #subprotocol: string;
  readonly #extensions: string;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #onClosed: ((connection: never) => void) | undefined;
  #head: Buffer | undefined;
  #inbox: MessageInbox | undefined;
  #pings: PingTracker | undefined;
  #started = false;
  #closeCalled = false;
  #terminateReason: string | undefined;
  #closeError: ConnectionClosedError | undefined;
  #closedWaiters: ((info: CloseInfo) => void)[] | undefined;
  #latency: number | undefined;

  constructor(transport: Duplex, protocol: Protocol, setup: ConnectionSetup) {
    super();
    this.#settings = setup.settings;
    this.#pump = new TransportPump(transport, protocol, this, setup.settings.closeTimeout, PROTOCOL_WORK_BUDGET);
    this.#subprotocol = setup.protocol ?? '';
    this.#extensions = setup.extensions ?? '';
    this.#head = setup.head;
    this.#heartbeat = setup.heartbeat;
    this.#onClosed = setup.onClosed;
  }

  /** The one send path, made on the first send. */
  get #send(): SendPath {
    return (this.#sendPath ??= new SendPath(this.#pump, this.#settings, this));
  }

  /**
   * Starts reading. Call it once the application's listeners are attached (the roles do: the
   * server after its `'connection'` listeners ran, the client on the turn after `connect()`).
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const head = this.#head;
    this.#head = undefined;
    if (!this.#pump.transport.destroyed) this.#heartbeat?.add(this);
    this.#pump.start(head);
  }

  get readyState(): ConnectionState {
    if (this.#closeError !== undefined) return ConnectionState.Closed;
    const protocol = this.#pump.protocol;
    if (protocol.state !== ConnectionState.Open || protocol.closeReceived !== undefined) return ConnectionState.Closing;
    if (this.#terminateReason !== undefined || this.#sendPath?.closeRequested === true) return ConnectionState.Closing;
    return ConnectionState.Open;
  }

  /** The subprotocol the handshake selected ('' when none). */
  get protocol(): string {
    return this.#subprotocol;
  }

  /** The extensions the handshake agreed on, as the `Sec-WebSocket-Extensions` value ('' when none). */
  get extensions(): string {
    return this.#extensions;
  }

  /** Bytes not yet written: the transport's own buffer plus messages queued here. */
  get bufferedAmount(): number {
    return this.#sendPath?.bufferedAmount ?? this.#pump.transport.writableLength;
  }

  /** The transport. */
  get socket(): Duplex {
    return this.#pump.transport;
  }

  /** Round-trip time of the last answered ping (heartbeat or `ping()`), in ms; undefined before the first. */
  get latency(): number | undefined {
    return this.#latency;
  }

  /** Whether the transport is not being read (for any reason: see the class comment). */
  get isPaused(): boolean {
    return this.#pump.gate.isPaused;
  }

  /** Resolves with how the connection ended, once it has. Never rejects. */
  get closed(): Promise<CloseInfo> {
    const error = this.#closeError;
    if (error !== undefined) return Promise.resolve(closeInfoOf(error));
    return new Promise((resolve) => (this.#closedWaiters ??= []).push(resolve));
  }

  /**
   * Sends a message (or, with `fin: false`, the first or next fragment of one). Returns `sent`
   * when the transport took it and is not backed up, `queued` when it waits (listen for
   * `'drain'`), `dropped` under the `drop` policy past `maxBufferedAmount`, `closed` when the
   * connection is closing or closed (or was just closed by the `close` policy). Never throws
   * for a closed connection.
   */
  send(data: SendData, options?: SendOptions): SendStatus {
    return this.#canSend() ? this.#send.send(data, options) : SendStatus.Closed;
  }

  /**
   * Sends a message and resolves once the transport has taken all of it and is not backed up.
   * It never drops: the caller is waiting, which is the backpressure. Rejects with
   * `ConnectionClosedError` if the connection closes first or is closing already.
   */
  sendAsync(data: SendData, options?: SendOptions): Promise<void> {
    return this.#canSend() ? this.#send.sendAsync(data, options) : Promise.reject(this.#closedError());
  }

  /**
   * Sends a message of unknown length from an async iterable (a Readable, a generator): each
   * chunk leaves as one or more fragments as soon as it comes and the previous ones drained, and
   * an empty final fragment ends the message. Other messages sent meanwhile wait until it ends.
   * If the source throws, the message cannot be finished: the connection is closed with 1011
   * and the error rethrown.
   */
  async sendStream(source: AsyncIterable<SendData>, options?: Omit<SendOptions, 'fin'>): Promise<void> {
    if (!this.#canSend()) throw this.#closedError();
    await this.#send.sendStream(source, options, () => (this.#canSend() ? undefined : this.#closedError()));
  }

  /**
   * Writes complete frames encoded once for many connections (a broadcast or publish): the same
   * buffers for every recipient, no copy. The backpressure policy applies as to `send`.
   */
  sendFrames(frames: readonly Buffer[]): SendStatus {
    return this.#canSend() ? this.#send.sendFrames(frames) : SendStatus.Closed;
  }

  /**
   * Pings the peer and resolves with the round-trip time in ms once its pong arrives (which also
   * updates `latency`). Rejects with `ConnectionClosedError` if the connection closes first and
   * with `PingTimeoutError` after `options.timeout`.
   */
  ping(options: PingOptions = {}): Promise<number> {
    const timeout = options.timeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
      throw new RangeError(`The "timeout" option must be a positive number of ms; received ${String(timeout)}`);
    }
    if (!this.#canSend()) return Promise.reject(this.#closedError());
    const data = options.data;
    const pings = (this.#pings ??= new PingTracker());
    const payload = pings.nextPayload(data === undefined ? undefined : typeof data === 'string' ? Buffer.from(data) : toBuffer(data));
    this.#pump.protocol.sendPing(payload);
    this.#pump.flushUnlessDelivering();
    return pings.track(payload, options.timeout);
  }

  /** Sends an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3). */
  pong(data: Buffer | Uint8Array | string = EMPTY): SendStatus {
    if (!this.#canSend()) return SendStatus.Closed;
    this.#pump.protocol.sendPong(data);
    this.#pump.flushUnlessDelivering();
    return SendStatus.Sent;
  }

  /**
   * Starts the closing handshake (after any queued messages, as a browser does) and resolves once
   * it is over and the transport closed (at most `closeTimeout` later). Throws `RangeError` for
   * a code that may not be sent (RFC 6455 §7.4) or a reason over 123 bytes. Closing a closing or
   * closed connection returns the same `closed` promise.
   */
  close(code?: number, reason?: string): Promise<CloseInfo> {
    encodeClosePayload(code, reason);
    if (this.#canSend()) {
      this.#closeCalled = true;
      if (this.#sendPath?.closeAfterQueued(code, reason) !== true) this.#closeNow(code, reason);
    }
    return this.closed;
  }

  /**
   * Destroys the transport at once, dropping queued messages; `close` reports 1006 and `reason`.
   * An HTTP/2 stream is reset with CANCEL (NO_ERROR once the closing handshake has completed).
   */
  terminate(reason = ''): void {
    if (this.#closeError !== undefined) return;
    this.#terminateReason ??= reason;
    this.#sendPath?.dropQueued();
    abortTransport(this.#pump.transport, this.#pump.protocol.wasClean);
  }

  /**
   * Ends the connection for a reason found outside the byte stream (a heartbeat timeout, a
   * shutdown, a send buffer limit): reports `error` to `'error'` listeners, stops reading, then
   * destroys the transport (`close` reports 1006 and `error.reason`) or, for a close code that
   * can be sent, sends a close frame with it and destroys the transport soon after.
   */
  fail(error: ConnectionError): void {
    if (this.#closeError !== undefined) return;
    this.#pump.fail();
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.#terminateReason ??= error.reason;
    if (error.closeCode === CloseCode.Abnormal) {
      this.terminate(error.reason);
      return;
    }
    // The queued data is what the peer is too slow for (or what can no longer be completed):
    // drop it and close now. RFC 6455 §5.4: "Control frames (see Section 5.5) MAY be injected
    // in the middle of a fragmented message", so the close frame may follow a partly sent one.
    this.#sendPath?.dropQueued();
    const protocol = this.#pump.protocol;
    if (!protocol.closeSent && protocol.state !== ConnectionState.Closed) this.#closeNow(error.closeCode, error.reason);
    this.#pump.armCloseTimer();
  }

  /** Stops reading from the transport (TCP flow control then slows the peer down). */
  pause(): void {
    this.#pump.gate.set(ReadPause.Application, true);
  }

  resume(): void {
    this.#pump.gate.set(ReadPause.Application, false);
  }

  /**
   * The messages from now on, text as strings and binary as Buffers. Iteration ends when the
   * connection closes normally (1000, 1001, 1005, or a close this side started) and throws
   * `ConnectionClosedError` otherwise. When more than `receiveHighWaterMark` bytes wait unread,
   * reading stops until the loop catches up. One iteration at a time; leaving the loop early
   * does not close the connection.
   */
  messages(): MessageIterator<Message> {
    return this.#messageInbox().messages();
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return this.messages();
  }

  /**
   * Like `messages()`, but each message is an async iterable of its chunks: in receive mode
   * `stream` they come as they arrive, so a message of any size is read in bounded memory.
   */
  messageStreams(): MessageIterator<ReceivedMessage> {
    return this.#messageInbox().messageStreams();
  }

  // ---- What the pump, the send path and the heartbeat call (under symbols, or as the host) ----

  [kEmitDrain](): void {
    this.emit('drain');
  }

  [kTransportDrained](): void {
    if (this.#sendPath === undefined) this.emit('drain');
    else this.#sendPath.transportDrained();
  }

  [kDeliver](events: readonly ProtocolEvent[]): void {
    const inbox = this.#inbox;
    for (const event of events) {
      switch (event.type) {
        case 'message':
          if (inbox?.isActive === true) inbox.push({ data: event.data, isBinary: event.isBinary, messageStart: true, messageEnd: true });
          this.emit('message', event.data, event.isBinary);
          break;
        case 'piece':
          if (inbox?.isActive === true) inbox.push(event);
          this.emit('piece', event);
          break;
        case 'ping':
          this.emit('ping', event.data);
          break;
        case 'pong': {
          const latency = this.#pings?.pongReceived(event.data) ?? this.#heartbeat?.pongReceived(this);
          if (latency !== undefined) this.#latency = latency;
          this.emit('pong', event.data);
          break;
        }
        case 'close':
          break;
        case 'error':
          this.#pump.fail();
          if (this.listenerCount('error') > 0) this.emit('error', event.error);
          break;
      }
    }
  }

  [kTransportClosed](): void {
    if (this.#closeError !== undefined) return;
    const protocol = this.#pump.protocol;
    protocol.receiveEof();
    protocol.dataToSend();
    this.#pump.detach();
    const error = this.#closedError();
    this.#closeError = error;
    this.#heartbeat?.delete(this);
    this.#sendPath?.closed(error);
    this.#pings?.rejectAll(error);
    // Whatever events the last pump produced (a final message before EOF) go first.
    this[kDeliver](protocol.eventsReceived());
    this.#inbox?.end(error, this.#endsInFailure(error));
    (this.#onClosed as ((connection: Connection) => void) | undefined)?.(this);
    const waiters = this.#closedWaiters;
    this.#closedWaiters = undefined;
    if (waiters !== undefined) for (const resolve of waiters) resolve(closeInfoOf(error));
    this.emit('close', error.closeCode, error.reason, error.wasClean);
  }

  [kHeartbeatPing](): void {
    if (!this.#canSend()) return;
    this.#pump.protocol.sendPing(EMPTY);
    this.#pump.flushUnlessDelivering();
  }

  [kHeartbeatExempt](): boolean {
    const gate = this.#pump.gate;
    return gate.isWaitingOnApplication || gate.outputProgressed();
  }

  [kHeartbeatTimedOut](): void {
    this.fail(new ConnectionError('WS_ERR_HEARTBEAT_TIMEOUT', 'The peer did not answer a heartbeat ping in time'));
  }

  // ---- Internals ---------------------------------------------------------------------------

  /**
   * Data may be sent until our close frame is sent or queued: also after the peer's close frame
   * arrived, while its echo is held back so the application can answer what preceded it.
   */
  #canSend(): boolean {
    const protocol = this.#pump.protocol;
    return (
      !protocol.closeSent &&
      protocol.state === ConnectionState.Open &&
      this.#closeError === undefined &&
      this.#terminateReason === undefined &&
      this.#sendPath?.closeRequested !== true
    );
  }

  #closeNow(code: number | undefined, reason: string | undefined): void {
    this.#pump.protocol.sendClose(code, reason);
    this.#pump.flushUnlessDelivering();
  }

  #messageInbox(): MessageInbox {
    const inbox = (this.#inbox ??= new MessageInbox({
      highWaterMark: this.#settings.receiveHighWaterMark,
      setFull: (full) => this.#pump.gate.set(ReadPause.Inbox, full),
    }));
    const closeError = this.#closeError;
    if (closeError !== undefined) inbox.end(closeError, this.#endsInFailure(closeError));
    return inbox;
  }

  /** Whether iterating over messages throws when it reaches the close: it did not end normally. */
  #endsInFailure(error: ConnectionClosedError): boolean {
    const failed = this.#pump.failed;
    if (this.#closeCalled && !failed) return false;
    return failed || this.#pump.protocol.protocolError !== undefined || !NORMAL_CLOSE_CODES.has(error.closeCode);
  }

  #closedError(): ConnectionClosedError {
    if (this.#closeError !== undefined) return this.#closeError;
    const protocol = this.#pump.protocol;
    if (protocol.closeReceived === undefined && this.#terminateReason !== undefined) {
      return new ConnectionClosedError(CloseCode.Abnormal, this.#terminateReason, false);
    }
    return new ConnectionClosedError(protocol.closeCode, protocol.closeReason, protocol.wasClean);
  }
}

function closeInfoOf(error: ConnectionClosedError): CloseInfo {
  return { code: error.closeCode, reason: error.reason, wasClean: error.wasClean };
}
