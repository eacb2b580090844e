import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  ConnectionClosedError,
  ConnectionState,
  encodeClosePayload,
  InvalidStateError,
  type Protocol,
} from '@ws/core';
import {
  BackpressurePolicy,
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  type SendData,
  type SendOptions,
  SendStatus,
} from '@ws/core/node';
import type { Heartbeat, HeartbeatPeer } from './heartbeat.js';
import { MessageInbox, type ReceivedMessage } from './message-inbox.js';
import { ServerError } from './server-error.js';

/** Queued received bytes past which `messages()` stops reading the socket. */
export const DEFAULT_RECEIVE_HIGH_WATER_MARK = 1024 * 1024;

/**
 * The most the pump writes in one turn of the event loop when the socket takes everything at
 * once (the kernel buffer has room): then it yields with `setImmediate`, so incoming frames
 * (pings, closes) are read and answered between fragments.
 */
const MIN_PUMP_BUDGET = 256 * 1024;
/**
 * ...except that a message up to this size, once started, is finished in the same turn (still
 * fragment by fragment, and only while the kernel takes each one whole). A yield in the middle
 * of a message is expensive under load: 100 connections echoing 1 MiB used 40 % more CPU per
 * message when each message was cut over four turns, because every yield lets the other
 * connections' input pile up meanwhile (more buffers alive, colder caches, twice the GC time).
 * A pong so waits behind at most about a millisecond of writing on a fast link; longer messages
 * are still paced by the budget above.
 */
const WHOLE_MESSAGE_LIMIT = 1024 * 1024;

export interface ServerConnectionOptions<Data> extends ConnectionOptions {
  /** What the `authenticate` hook accepted the connection with. */
  readonly data: Data;
  /** Bytes queued for `messages()` past which reading stops (backpressure). Default 1 MiB. */
  readonly receiveHighWaterMark?: number;
  /** The server's shared heartbeat; the connection joins it when it starts. */
  readonly heartbeat?: Heartbeat | undefined;
  /** Called after the connection closed, before the application's `close` listeners (server bookkeeping). */
  readonly onClose?: ((connection: ServerConnection<Data>) => void) | undefined;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The connection's face towards the server's shared heartbeat: one small object with methods
 * on its prototype. Three arrow functions would cost about a kilobyte per idle connection
 * (each closure, its context and, in V8, a property array for its runtime-set `name`).
 */
class HeartbeatLink implements HeartbeatPeer {
  readonly #connection: ServerConnection<unknown>;

  constructor(connection: ServerConnection<unknown>) {
    this.#connection = connection;
  }

  ping(): unknown {
    return this.#connection.ping();
  }

  isPaused(): boolean {
    return this.#connection.isPaused;
  }

  heartbeatTimedOut(): void {
    this.#connection.terminateWith(
      new ServerError('WS_ERR_HEARTBEAT_TIMEOUT', 'The peer did not answer a heartbeat ping in time'),
    );
  }
}

/**
 * Shared by every connection's empty queues: most connections never queue anything, and an
 * empty array per queue would cost 32 bytes each. Never written to: `append` replaces it first.
 */
const NO_ITEMS: readonly never[] = Object.freeze([]);

/** A data message (or part of one, with `fin: false`) waiting to be written fragment by fragment. */
interface DataItem {
  readonly kind: 'data';
  readonly payload: Buffer;
  offset: number;
  readonly isBinary: boolean;
  readonly fin: boolean;
  readonly compress: boolean | undefined;
  readonly waiter: Waiter | undefined;
}

/** Complete frames encoded once for many connections (a broadcast), written one frame at a time. */
interface FramesItem {
  readonly kind: 'frames';
  readonly frames: readonly Buffer[];
  index: number;
  readonly waiter: Waiter | undefined;
}

/** A close requested while data was still queued: it goes out after that data, as a browser's does. */
interface CloseItem {
  readonly kind: 'close';
  readonly code: number | undefined;
  readonly reason: string | undefined;
}

type OutgoingItem = DataItem | FramesItem | CloseItem;

/**
 * One accepted WebSocket connection: core's {@link Connection} plus what a server adds.
 *
 * - `data` (from the `authenticate` hook), `remoteAddress`, `latency` (heartbeat round trip).
 * - The outgoing fragmentation policy: a message longer than `fragmentSize` is written one
 *   fragment at a time, each after the socket drained the previous one, so the automatic pongs,
 *   pings and close frames produced meanwhile reach the peer between fragments instead of
 *   behind megabytes of data. Messages sent meanwhile queue behind it, in order.
 * - `messages()`, an async iterator over received messages with backpressure.
 * - The backpressure policy (`maxBufferedAmount`, `onBackpressure`) applied to the socket's
 *   buffer plus this queue.
 */
export class ServerConnection<Data = undefined> extends Connection {
  /** What the `authenticate` hook accepted this connection with. */
  readonly data: Data;
  /** The peer's IP address, as the socket reported it when the connection was accepted. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  readonly #protocol: Protocol;
  readonly #fragmentSize: number;
  readonly #maxBufferedAmount: number;
  readonly #onBackpressure: BackpressurePolicy;
  readonly #receiveHighWaterMark: number;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #heartbeatPeer: HeartbeatPeer | undefined;
  /** Typed without `Data`, so that the class stays covariant in it; called with `this`. */
  readonly #onClose: ((connection: never) => void) | undefined;

  #started = false;
  #latency: number | undefined;
  #closeError: ConnectionClosedError | undefined;

  // Outgoing. The arrays start as the shared `NO_ITEMS` and are allocated on first use.
  #queue: OutgoingItem[] = NO_ITEMS as never[];
  /** Items waiting for the message open at the queue's tail to finish (see `#accept`). */
  #held: OutgoingItem[] = NO_ITEMS as never[];
  #queuedBytes = 0;
  /** The last data accepted for sending had `fin: false`: a message is open. */
  #tailOpen = false;
  /** `sendStream` owns the open message; other messages are held until it ends. */
  #streaming = false;
  #closeRequested = false;
  #pumping = false;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  /** A send reported `queued`: a `drain` event is owed once everything is written. */
  #owesDrain = false;
  /** Waiters whose message is with the socket; they resolve once it is not backed up. */
  #handed: Waiter[] = NO_ITEMS as never[];
  /** Waiters whose message was dropped by a close; they reject when the connection closes. */
  #abandoned: Waiter[] = NO_ITEMS as never[];

  // Incoming.
  #inbox: MessageInbox | undefined;
  #userPaused = false;
  #inboxPaused = false;

  constructor(socket: Duplex, protocol: Protocol, options: ServerConnectionOptions<Data>) {
    // Core sends each message whole; fragmentation and the buffer limit are applied here, where
    // the queue that fragmentation needs can be counted in `bufferedAmount`.
    super(socket, protocol, {
      closeTimeout: options.closeTimeout,
      protocol: options.protocol,
      extensions: options.extensions,
      fragmentSize: Infinity,
      maxBufferedAmount: Infinity,
      onBackpressure: BackpressurePolicy.Wait,
    });
    this.#protocol = protocol;
    this.data = options.data;
    const net = socket as Partial<{ remoteAddress: string; remotePort: number }>;
    this.remoteAddress = net.remoteAddress;
    this.remotePort = net.remotePort;
    this.#fragmentSize = options.fragmentSize ?? Infinity;
    if (!(this.#fragmentSize > 0)) throw new InvalidStateError('fragmentSize must be positive', 'fragmentSize');
    this.#maxBufferedAmount = options.maxBufferedAmount ?? 16 * 1024 * 1024;
    this.#onBackpressure = options.onBackpressure ?? BackpressurePolicy.Close;
    this.#receiveHighWaterMark = options.receiveHighWaterMark ?? DEFAULT_RECEIVE_HIGH_WATER_MARK;
    this.#heartbeat = options.heartbeat;
    this.#heartbeatPeer = options.heartbeat === undefined ? undefined : new HeartbeatLink(this);
    this.#onClose = options.onClose;
  }

  override start(head?: Buffer): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#userPaused || this.#inboxPaused) super.pause();
    if (this.#heartbeatPeer !== undefined) this.#heartbeat?.add(this.#heartbeatPeer);
    super.start(head);
  }

  /** Round-trip time of the last answered heartbeat ping, in ms; undefined before the first. */
  get latency(): number | undefined {
    return this.#latency;
  }

  override get readyState(): ConnectionState {
    const state = super.readyState;
    return state === ConnectionState.Open && this.#closeRequested ? ConnectionState.Closing : state;
  }

  /** Bytes not yet written by the socket: its own buffer plus messages queued here. */
  override get bufferedAmount(): number {
    return super.bufferedAmount + this.#queuedBytes;
  }

  // ---- Sending -----------------------------------------------------------------------------

  /**
   * Sends a message (or, with `fin: false`, a part of one). Returns `sent` when the socket
   * took it and is not backed up, `queued` when it waits (listen for `'drain'`), `dropped`
   * under the `drop` policy past `maxBufferedAmount`, `closed` when the connection is closing
   * or closed (or was just closed by the `close` policy).
   */
  override send(data: SendData, options?: SendOptions): SendStatus {
    if (!this.#canSend()) return SendStatus.Closed;
    const limited = this.#applyBackpressurePolicy();
    if (limited !== undefined) return limited;
    return this.#submit(data, options, undefined, false);
  }

  /**
   * Sends a message and resolves once the socket has taken all of it and is not backed up.
   * It never drops: the caller is waiting, which is the backpressure. Rejects with
   * `ConnectionClosedError` if the connection closes first or is closing already.
   */
  override sendAsync(data: SendData, options?: SendOptions): Promise<void> {
    if (!this.#canSend()) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      this.#submit(data, options, { resolve, reject }, false);
    });
  }

  /**
   * Sends a message of unknown length from an async iterable (a Readable, a generator) as a
   * fragmented message: each chunk becomes one or more fragments as soon as it comes and the
   * previous ones drained, and an empty final fragment ends the message. Other messages (and
   * broadcasts) sent meanwhile wait until this one ends. If the source throws,
   * the message cannot be finished, so the connection is closed with 1011 and the error rethrown.
   */
  override async sendStream(source: AsyncIterable<SendData>, options?: Omit<SendOptions, 'fin'>): Promise<void> {
    if (!this.#canSend()) throw this.#closedError();
    if (this.#streaming || this.#tailOpen) {
      throw new InvalidStateError('A fragmented message is being sent; finish it first', 'open');
    }
    this.#streaming = true;
    let binary = options?.binary;
    const iterator = source[Symbol.asyncIterator]();
    let sourceFailed = false;
    try {
      for (;;) {
        let step: IteratorResult<SendData>;
        try {
          step = await iterator.next();
        } catch (error) {
          sourceFailed = true;
          throw error;
        }
        if (step.done === true) break;
        const chunk = step.value;
        binary ??= typeof chunk !== 'string';
        // Each chunk goes out as it comes (a live source is not delayed by one chunk); the
        // message then ends with an empty final fragment, since the last chunk is only known
        // once the source is done.
        await this.#sendPart(typeof chunk === 'string' ? chunk : toBuffer(chunk), binary, false, options?.compress);
      }
    } catch (error) {
      this.#streaming = false;
      if (sourceFailed) {
        this.#failWith(new ServerError('WS_ERR_STREAM_SOURCE_FAILED', 'The message source threw', { cause: error }));
      } else {
        // Sending failed (the connection closed): the rest of the source is not wanted.
        await iterator.return?.()?.catch(() => undefined);
      }
      throw error;
    }
    this.#streaming = false;
    await this.#sendPart(Buffer.alloc(0), binary ?? true, true, options?.compress);
  }

  /**
   * Writes complete frames encoded once for many connections (a broadcast); several buffers
   * are the fragments of one message, written one by one like any fragmented message. Waits
   * (queued) while a fragmented message of this connection is open.
   */
  override sendFrames(frames: Buffer | readonly Buffer[]): SendStatus {
    if (!this.#canSend()) return SendStatus.Closed;
    const limited = this.#applyBackpressurePolicy();
    if (limited !== undefined) return limited;
    const list: readonly Buffer[] = Buffer.isBuffer(frames) ? [frames] : frames;
    if (this.#queue.length === 0 && !this.#tailOpen && !this.#streaming && list.length === 1) {
      return this.#noteStatus(super.sendFrames(list[0]!), undefined);
    }
    this.#accept({ kind: 'frames', frames: list, index: 0, waiter: undefined });
    this.#pump();
    return this.#queuedStatus();
  }

  /**
   * Starts the closing handshake once the data already sent or queued has been written (a
   * browser's `close()` does the same). Throws InvalidStateError for a code that may not be
   * sent or a reason over 123 bytes; does nothing once closing has started.
   */
  override close(code?: number, reason?: string): void {
    if (this.readyState !== ConnectionState.Open) return;
    // Validated now, even when the close frame itself has to wait for the queue.
    encodeClosePayload(code, reason);
    this.#dropHeld();
    if (this.#queue.length === 0) {
      super.close(code, reason);
      return;
    }
    this.#closeRequested = true;
    this.#queue = append(this.#queue, { kind: 'close', code, reason });
    this.#pump();
  }

  /** Destroys the socket at once, dropping queued messages; `close` reports 1006 and `reason`. */
  override terminate(reason = ''): void {
    this.#dropQueued();
    super.terminate(reason);
  }

  /**
   * Ends the connection for a reason the server decided (heartbeat timeout, shutdown): reports
   * `error` to `'error'` listeners, then destroys the socket (`close` reports 1006 and
   * `error.reason`) or, for a close code that can be sent, starts a closing handshake with it.
   */
  terminateWith(error: ServerError): void {
    this.#failWith(error);
  }

  // ---- Receiving ---------------------------------------------------------------------------

  /**
   * Iterates over received messages; each is itself an async iterable of its chunks (receive
   * mode `stream`: as they arrive; mode `message`: one chunk). When more than the receive
   * high-water mark is queued unread, the socket stops being read until the consumer catches up.
   * Call it in the `'connection'` handler, before awaiting anything; it can be iterated once.
   * Iteration ends when the connection closes; a message cut short by the close throws
   * `ConnectionClosedError` from its own iterator, so truncated data never looks complete.
   */
  messages(): AsyncGenerator<ReceivedMessage, void, undefined> {
    if (this.#inbox !== undefined) {
      throw new InvalidStateError('messages() can be iterated only once per connection', 'messages');
    }
    const inbox = new MessageInbox({
      highWaterMark: this.#receiveHighWaterMark,
      pause: () => {
        this.#inboxPaused = true;
        if (this.#started) super.pause();
      },
      resume: () => {
        this.#inboxPaused = false;
        if (this.#started && !this.#userPaused) super.resume();
      },
    });
    this.#inbox = inbox;
    if (this.#closeError !== undefined) inbox.end(this.#closeError);
    return inbox.messages();
  }

  [Symbol.asyncIterator](): AsyncGenerator<ReceivedMessage, void, undefined> {
    return this.messages();
  }

  /** Stops reading from the socket (TCP flow control then slows the peer down). */
  override pause(): void {
    this.#userPaused = true;
    if (this.#started) super.pause();
  }

  override resume(): void {
    this.#userPaused = false;
    if (this.#started && !this.#inboxPaused) super.resume();
  }

  /** Whether the socket is not being read (paused by `pause()` or by `messages()` backpressure). */
  override get isPaused(): boolean {
    return this.#userPaused || this.#inboxPaused || super.isPaused;
  }

  /**
   * Every event passes here first: the connection's own bookkeeping (heartbeat, the message
   * inbox, the send queue, the close) runs before the application's listeners, and cannot be
   * undone by `removeAllListeners()`.
   */
  override emit<K>(
    eventName: K | keyof ConnectionEvents,
    ...args: K extends keyof ConnectionEvents ? ConnectionEvents[K] : never
  ): boolean {
    switch (eventName) {
      case 'message': {
        const inbox = this.#inbox;
        if (inbox?.isActive === true) {
          const [data, isBinary] = args as ConnectionEvents['message'];
          inbox.push({ data, isBinary, messageStart: true, messageEnd: true });
        }
        break;
      }
      case 'piece': {
        const inbox = this.#inbox;
        if (inbox?.isActive === true) inbox.push((args as ConnectionEvents['piece'])[0]);
        break;
      }
      case 'pong': {
        const peer = this.#heartbeatPeer;
        const latency = peer === undefined ? undefined : this.#heartbeat?.pongReceived(peer);
        if (latency !== undefined) this.#latency = latency;
        break;
      }
      case 'drain':
        // The socket drained: write what is queued; `#settle` emits 'drain' once all is written.
        this.#pump();
        return true;
      case 'close': {
        const [code, reason, wasClean] = args as ConnectionEvents['close'];
        this.#closed(new ConnectionClosedError(code, reason, wasClean));
        break;
      }
    }
    return super.emit(eventName, ...args);
  }

  // ---- The send queue ----------------------------------------------------------------------

  #canSend(): boolean {
    return super.readyState === ConnectionState.Open && !this.#closeRequested && !this.#protocol.closeSent;
  }

  #applyBackpressurePolicy(): SendStatus | undefined {
    if (this.bufferedAmount <= this.#maxBufferedAmount) return undefined;
    if (this.#onBackpressure === BackpressurePolicy.Drop) return SendStatus.Dropped;
    if (this.#onBackpressure === BackpressurePolicy.Close) {
      this.#failWith(
        new ServerError(
          'WS_ERR_BACKPRESSURE_LIMIT',
          `bufferedAmount ${this.bufferedAmount} exceeds maxBufferedAmount ${this.#maxBufferedAmount}`,
        ),
      );
      return SendStatus.Closed;
    }
    return undefined;
  }

  #submit(data: SendData, options: SendOptions | undefined, waiter: Waiter | undefined, fromStream: boolean): SendStatus {
    const fin = options?.fin ?? true;
    if (this.#streaming && !fromStream) {
      const item = this.#dataItem(data, options, fin, waiter);
      this.#held = append(this.#held, item);
      this.#queuedBytes += item.payload.length;
      return this.#queuedStatus();
    }
    if (this.#queue.length === 0 && this.#fitsOneFragment(data)) {
      // The common case: nothing queued, one frame. Straight to core, no copy, no queue.
      const status = super.send(data, options);
      if (status === SendStatus.Closed) {
        waiter?.reject(this.#closedError());
        return status;
      }
      this.#tailOpen = !fin;
      if (fin && this.#held.length > 0) {
        this.#releaseHeld();
        this.#pump();
      }
      return this.#noteStatus(status, waiter);
    }
    this.#accept(this.#dataItem(data, options, fin, waiter));
    this.#pump();
    return this.#queuedStatus();
  }

  async #sendPart(data: Buffer | string, binary: boolean, fin: boolean, compress: boolean | undefined): Promise<void> {
    if (!this.#canSend()) throw this.#closedError();
    await new Promise<void>((resolve, reject) => {
      this.#submit(data, { binary, fin, compress }, { resolve, reject }, true);
    });
  }

  #dataItem(data: SendData, options: SendOptions | undefined, fin: boolean, waiter: Waiter | undefined): DataItem {
    const isBinary = options?.binary ?? typeof data !== 'string';
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
    return { kind: 'data', payload, offset: 0, isBinary, fin, compress: options?.compress, waiter };
  }

  /**
   * Puts an item in the queue, keeping its one invariant: complete frames (a broadcast) never
   * sit behind an open message's fragment, because the continuation that closes the message
   * would come after them and the frames could never be written. They wait in `#held` until a
   * data item with `fin: true` closes the message.
   */
  #accept(item: OutgoingItem): void {
    if (item.kind === 'frames') {
      if (this.#tailOpen || this.#streaming) {
        this.#held = append(this.#held, item);
      } else {
        this.#queue = append(this.#queue, item);
      }
      for (const frame of item.frames) this.#queuedBytes += frame.length;
      return;
    }
    if (item.kind === 'data') {
      this.#queue = append(this.#queue, item);
      this.#queuedBytes += item.payload.length;
      this.#tailOpen = !item.fin;
      if (item.fin && this.#held.length > 0) this.#releaseHeld();
    }
  }

  #releaseHeld(): void {
    const held = this.#held;
    this.#held = NO_ITEMS as never[];
    for (const item of held) {
      // Their bytes are counted already; `#accept` counts them again.
      if (item.kind === 'data') this.#queuedBytes -= item.payload.length - item.offset;
      else if (item.kind === 'frames') for (const frame of item.frames) this.#queuedBytes -= frame.length;
      this.#accept(item);
    }
  }

  #fitsOneFragment(data: SendData): boolean {
    const size = this.#fragmentSize;
    if (size === Infinity) return true;
    if (typeof data === 'string') return data.length * 3 <= size || Buffer.byteLength(data, 'utf8') <= size;
    return data.byteLength <= size;
  }

  /**
   * Writes queued items, a fragment at a time, until the socket pushes back (the `'drain'`
   * event resumes it) or one turn's budget is spent (`setImmediate` resumes it, after pending
   * I/O, so pongs and replies to incoming frames go out in between).
   */
  #pump(): void {
    if (this.#pumping || this.#immediate !== undefined) return;
    this.#pumping = true;
    try {
      this.#writeQueued();
    } finally {
      this.#pumping = false;
    }
    this.#settle();
  }

  /** A static method with the connection as argument: no closure per connection. */
  static #resumePump(connection: ServerConnection<unknown>): void {
    connection.#immediate = undefined;
    connection.#pump();
  }

  #writeQueued(): void {
    let budget = Math.max(this.#fragmentSize, MIN_PUMP_BUDGET);
    const socket = this.socket;
    while (this.#queue.length > 0) {
      if (socket.destroyed) return;
      // Bytes left in the socket's own buffer mean the kernel is full: wait for 'drain' (it is
      // owed once a write returned false). While the kernel takes each fragment whole, go on.
      if (socket.writableNeedDrain && socket.writableLength > 0) return;
      const item = this.#queue[0]!;
      const finishing = item.kind === 'data' && item.offset > 0 && item.payload.length <= WHOLE_MESSAGE_LIMIT;
      if (budget <= 0 && !finishing) {
        this.#immediate = setImmediate(ServerConnection.#resumePump, this);
        return;
      }
      if (item.kind === 'close') {
        this.#queue.shift();
        this.#closeRequested = false;
        super.close(item.code, item.reason);
        this.#dropQueued();
        return;
      }
      let written: number;
      let done: boolean;
      let status: SendStatus;
      if (item.kind === 'frames') {
        const frame = item.frames[item.index]!;
        status = super.sendFrames(frame);
        written = frame.length;
        item.index++;
        done = item.index === item.frames.length;
      } else {
        const end = Math.min(item.offset + this.#fragmentSize, item.payload.length);
        done = end === item.payload.length;
        status = super.send(item.payload.subarray(item.offset, end), {
          binary: item.isBinary,
          fin: item.fin && done,
          compress: item.compress,
        });
        written = end - item.offset;
        item.offset = end;
      }
      if (status === SendStatus.Closed) {
        this.#dropQueued();
        return;
      }
      budget -= written;
      this.#queuedBytes -= written;
      if (done) {
        this.#queue.shift();
        if (item.waiter !== undefined) this.#handed = append(this.#handed, item.waiter);
      }
    }
  }

  /** When the socket is not backed up: resolve what it has taken, and emit an owed `'drain'`. */
  #settle(): void {
    const socket = this.socket;
    if (socket.writableNeedDrain && socket.writableLength > 0) return;
    if (this.#handed.length > 0) {
      const handed = this.#handed;
      this.#handed = NO_ITEMS as never[];
      for (const waiter of handed) waiter.resolve();
    }
    if (this.#owesDrain && this.#queue.length === 0 && this.#held.length === 0) {
      this.#owesDrain = false;
      super.emit('drain');
    }
  }

  #noteStatus(status: SendStatus, waiter: Waiter | undefined): SendStatus {
    if (status === SendStatus.Queued) {
      this.#owesDrain = true;
      if (waiter !== undefined) this.#handed = append(this.#handed, waiter);
    } else if (waiter !== undefined) {
      waiter.resolve();
    }
    return status;
  }

  #queuedStatus(): SendStatus {
    if (this.#queue.length === 0 && this.#held.length === 0 && !this.socket.writableNeedDrain) {
      return SendStatus.Sent;
    }
    this.#owesDrain = true;
    return SendStatus.Queued;
  }

  #dropHeld(): void {
    for (const item of this.#held) {
      if (item.kind !== 'close' && item.waiter !== undefined) this.#abandoned = append(this.#abandoned, item.waiter);
    }
    this.#held = NO_ITEMS as never[];
    this.#queuedBytes = 0;
    for (const item of this.#queue) {
      if (item.kind === 'data') this.#queuedBytes += item.payload.length - item.offset;
      else if (item.kind === 'frames') {
        for (let index = item.index; index < item.frames.length; index++) this.#queuedBytes += item.frames[index]!.length;
      }
    }
  }

  #dropQueued(): void {
    for (const item of [...this.#queue, ...this.#held]) {
      if (item.kind !== 'close' && item.waiter !== undefined) this.#abandoned = append(this.#abandoned, item.waiter);
    }
    this.#queue = NO_ITEMS as never[];
    this.#held = NO_ITEMS as never[];
    this.#queuedBytes = 0;
    this.#streaming = false;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  #failWith(error: ServerError): void {
    if (this.listenerCount('error') > 0) super.emit('error', error);
    if (super.readyState === ConnectionState.Closed) return;
    if (error.closeCode === CloseCode.Abnormal) {
      this.terminate(error.reason);
      return;
    }
    // The queued data is what the peer is too slow for (or what can no longer be completed):
    // drop it and close now. RFC 6455 §5.4: "Control frames ... MAY be injected in the middle
    // of a fragmented message", so the close frame may follow a partly sent message.
    this.#dropQueued();
    this.#closeRequested = false;
    super.close(error.closeCode, error.reason);
  }

  #closed(error: ConnectionClosedError): void {
    this.#closeError = error;
    this.#dropQueued();
    this.#owesDrain = false;
    const waiters = [...this.#handed, ...this.#abandoned];
    this.#handed = NO_ITEMS as never[];
    this.#abandoned = NO_ITEMS as never[];
    for (const waiter of waiters) waiter.reject(error);
    this.#inbox?.end(error);
    if (this.#heartbeatPeer !== undefined) this.#heartbeat?.delete(this.#heartbeatPeer);
    (this.#onClose as ((connection: ServerConnection<Data>) => void) | undefined)?.(this);
  }

  #closedError(): ConnectionClosedError {
    return (
      this.#closeError ??
      new ConnectionClosedError(this.#protocol.closeCode, this.#protocol.closeReason, this.#protocol.wasClean)
    );
  }
}

/** Appends to a lazily allocated list: the shared empty one is replaced, never written to. */
function append<Item>(list: Item[], item: Item): Item[] {
  if ((list as readonly Item[]) === NO_ITEMS) return [item];
  list.push(item);
  return list;
}

function toBuffer(data: Exclude<SendData, string>): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
