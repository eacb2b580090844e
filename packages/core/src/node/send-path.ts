import { Buffer } from 'node:buffer';
import { InvalidStateError } from '@ws/core';
import { ConnectionError } from './connection-error.js';
import type { ResolvedConnectionOptions } from './connection-options.js';
import { ReadPause } from './read-gate.js';
import { fitsInOneFragment, type SendData, toPayload } from './send-data.js';
import { type QueueSink, SendQueue, type Waiter } from './send-queue.js';
import { BackpressurePolicy, SendStatus } from './send-status.js';
import type { TransportPump } from './transport-pump.js';

export interface SendOptions {
  /** Send as a binary message. Default: true for bytes, false for strings. */
  readonly binary?: boolean;
  /** False leaves the message open: further `send` calls add fragments until one with `fin: true`. */
  readonly fin?: boolean;
  /** False sends this message untransformed by a negotiated compression extension. */
  readonly compress?: boolean;
}

/** How the send path tells its connection that everything queued was written (under a symbol: not part of its API). */
export const kEmitDrain: unique symbol = Symbol('sendPath.emitDrain');

/** What the send path needs of its connection. */
export interface SendPathHost {
  /** Ends the connection for a reason the engine found (the `close` backpressure policy, a failed stream source). */
  fail(error: ConnectionError): void;
  /** Everything queued was written: the connection emits `'drain'`. */
  [kEmitDrain](): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * The one send path of a connection, whatever its role: a message that fits in one fragment,
 * with nothing queued, goes straight to the protocol and out; anything else goes through the
 * drain-paced {@link SendQueue} (created on first need: most connections never queue). It also
 * applies the backpressure policy to each send and output flow control to reading: while
 * `bufferedAmount` is over `outputHighWaterMark`, the transport is not read.
 */
export class SendPath {
  readonly #pump: TransportPump;
  readonly #settings: ResolvedConnectionOptions;
  readonly #host: SendPathHost;
  #queue: SendQueue | undefined;

  constructor(pump: TransportPump, settings: ResolvedConnectionOptions, host: SendPathHost) {
    this.#pump = pump;
    this.#settings = settings;
    this.#host = host;
  }

  /** Bytes not yet written: the transport's own buffer plus messages queued here. */
  get bufferedAmount(): number {
    return this.#pump.transport.writableLength + (this.#queue?.bytes ?? 0);
  }

  /** A `close()` waits behind queued messages. */
  get closeRequested(): boolean {
    return this.#queue?.closeRequested === true;
  }

  send(data: SendData, options: SendOptions | undefined): SendStatus {
    return this.#applyBackpressurePolicy() ?? this.#submit(data, options, undefined, false);
  }

  sendAsync(data: SendData, options: SendOptions | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#submit(data, options, { resolve, reject }, false);
    });
  }

  /** `sendStream`'s message, chunk by chunk; `send` and broadcasts meanwhile wait until it ends. `closedError` says whether the connection can still send. */
  async sendStream(
    source: AsyncIterable<SendData>,
    options: Omit<SendOptions, 'fin'> | undefined,
    closedError: () => Error | undefined,
  ): Promise<void> {
    const queue = this.#sendQueue();
    if (queue.messageOpen) throw new InvalidStateError('A fragmented message is being sent; finish it first', 'open');
    queue.streaming = true;
    let binary = options?.binary;
    const iterator = source[Symbol.asyncIterator]();
    const part = (data: SendData, fin: boolean): Promise<void> => {
      const closed = closedError();
      if (closed !== undefined) return Promise.reject(closed);
      return new Promise((resolve, reject) => {
        this.#submit(data, { binary, fin, compress: options?.compress }, { resolve, reject }, true);
      });
    };
    try {
      for (;;) {
        let step: IteratorResult<SendData>;
        try {
          step = await iterator.next();
        } catch (error) {
          this.#host.fail(new ConnectionError('WS_ERR_STREAM_SOURCE_FAILED', 'The message source threw', { cause: error }));
          throw error;
        }
        if (step.done === true) break;
        binary ??= typeof step.value !== 'string';
        // Each chunk goes out as it comes (a live source is not delayed by one chunk); the
        // message then ends with an empty final fragment, since the last chunk is only known
        // once the source is done.
        await part(step.value, false);
      }
      binary ??= true;
      await part(EMPTY, true);
    } finally {
      if (queue.streaming) queue.endStream();
    }
  }

  sendFrames(frames: readonly Buffer[]): SendStatus {
    const limited = this.#applyBackpressurePolicy();
    if (limited !== undefined) return limited;
    const queue = this.#queue;
    const protocol = this.#pump.protocol;
    const open = queue === undefined ? protocol.isSendingFragmented : !queue.canWriteDirectly(false) || queue.messageOpen;
    if (frames.length === 1 && !open) {
      protocol.sendRaw(frames[0]!);
      this.#pump.flushUnlessDelivering();
      return this.#directStatus(undefined);
    }
    this.#sendQueue().addFrames(frames, undefined);
    return this.#queuedStatus();
  }

  /** A close after the queued messages, as a browser's: true when it had to wait. */
  closeAfterQueued(code: number | undefined, reason: string | undefined): boolean {
    const queue = this.#queue;
    if (queue === undefined || queue.isIdle) return false;
    queue.addClose(code, reason);
    return true;
  }

  /** A close or a failure: what is queued is dropped (its waiters reject when the connection closes). */
  dropQueued(): void {
    this.#queue?.dropAll();
  }

  /** The transport drained: write what is queued (or emit `'drain'` when nothing was). */
  transportDrained(): void {
    if (this.#queue !== undefined) this.#queue.pump();
    else this.#host[kEmitDrain]();
    this.updateOutputPause();
  }

  /** The connection closed: every waiter rejects with `error`. */
  closed(error: Error): void {
    this.#queue?.rejectAll(error);
  }

  /**
   * Flow control: stop reading when a reply (`afterReply`: a send made while the peer's own
   * events are delivered) leaves more than `outputHighWaterMark` bytes waiting to be written,
   * and read again once output is under the mark. Output the application sends of its own accord (an
   * upload, a broadcast) never stops reading: two endpoints that both stopped reading because
   * their own uploads backed up would wait on each other forever.
   */
  updateOutputPause(afterReply = false): void {
    const gate = this.#pump.gate;
    if (this.bufferedAmount <= this.#settings.outputHighWaterMark) gate.set(ReadPause.Output, false);
    else if (afterReply) gate.set(ReadPause.Output, true);
  }

  /** Past `maxBufferedAmount`: what `drop` or `close` makes of a send; undefined to go on. */
  #applyBackpressurePolicy(): SendStatus | undefined {
    const settings = this.#settings;
    if (this.bufferedAmount <= settings.maxBufferedAmount) return undefined;
    if (settings.onBackpressure === BackpressurePolicy.Drop) return SendStatus.Dropped;
    // A reply to the peer's own message is never a reason to close: reading has stopped while
    // output backs up, so the peer cannot make more of them (flow control before closing).
    if (settings.onBackpressure === BackpressurePolicy.Close && !this.#pump.isDelivering) {
      this.#host.fail(
        new ConnectionError(
          'WS_ERR_BACKPRESSURE_LIMIT',
          `bufferedAmount ${this.bufferedAmount} exceeds maxBufferedAmount ${settings.maxBufferedAmount}`,
        ),
      );
      return SendStatus.Closed;
    }
    return undefined;
  }

  #submit(data: SendData, options: SendOptions | undefined, waiter: Waiter | undefined, fromStream: boolean): SendStatus {
    const isBinary = options?.binary ?? typeof data !== 'string';
    const payload = toPayload(data, isBinary);
    const fin = options?.fin ?? true;
    const queue = this.#queue;
    if ((queue === undefined || queue.canWriteDirectly(fromStream)) && fitsInOneFragment(payload, this.#settings.fragmentSize)) {
      // The common case: nothing queued, one frame. Straight to the protocol: no copy, no queue.
      this.#writeDataFrame(payload, isBinary, fin, options?.compress);
      queue?.noteDirect(fin);
      this.#pump.flushUnlessDelivering();
      return this.#directStatus(waiter);
    }
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    this.#sendQueue().addData(bytes, isBinary, fin, options?.compress, waiter, fromStream);
    this.updateOutputPause(this.#pump.isDelivering);
    return this.#queuedStatus();
  }

  #writeDataFrame(payload: Buffer | string, isBinary: boolean, fin: boolean, compress: boolean | undefined): void {
    const protocol = this.#pump.protocol;
    // The common case (a whole message, default compression) passes no options object.
    const options = fin && compress === undefined ? undefined : { fin, compress };
    if (protocol.isSendingFragmented) protocol.sendContinuation(payload, options);
    else if (isBinary) protocol.sendBinary(payload as Buffer, options);
    else protocol.sendText(payload, options);
  }

  #directStatus(waiter: Waiter | undefined): SendStatus {
    const backedUp = this.#pump.transport.writableNeedDrain;
    if (backedUp || waiter !== undefined) this.#sendQueue().handed(waiter, backedUp);
    this.updateOutputPause(this.#pump.isDelivering);
    return backedUp ? SendStatus.Queued : SendStatus.Sent;
  }

  #queuedStatus(): SendStatus {
    return this.#queue!.status() ? SendStatus.Queued : SendStatus.Sent;
  }

  #sendQueue(): SendQueue {
    return (this.#queue ??= new SendQueue(this.#queueSink(), this.#settings.fragmentSize, this.#pump.protocol.isSendingFragmented));
  }

  #queueSink(): QueueSink {
    const pump = this.#pump;
    const writable = (): boolean => !pump.protocol.closeSent && !pump.transport.destroyed;
    return {
      transport: pump.transport,
      writeDataFrame: (payload, isBinary, fin, compress) => {
        if (!writable()) return false;
        this.#writeDataFrame(payload, isBinary, fin, compress);
        pump.flushUnlessDelivering();
        return true;
      },
      writeFrames: (frame) => {
        if (!writable()) return false;
        pump.protocol.sendRaw(frame);
        pump.flushUnlessDelivering();
        return true;
      },
      closeNow: (code, reason) => {
        pump.protocol.sendClose(code, reason);
        pump.flushUnlessDelivering();
      },
      afterPump: () => this.updateOutputPause(),
      drained: () => this.#host[kEmitDrain](),
    };
  }
}
