import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';

/**
 * The most the queue writes in one turn of the event loop when the transport takes everything
 * at once (the kernel buffer has room): then it yields with `setImmediate`, so incoming frames
 * (pings, closes) are read and answered between fragments.
 */
const MIN_TURN_BUDGET = 256 * 1024;
/**
 * ...except that a message up to this size, once started, is finished in the same turn (still
 * fragment by fragment, and only while the kernel takes each one whole). A yield in the middle
 * of a message is expensive under load: 100 connections echoing 1 MiB used 40 % more CPU per
 * message when each message was cut over four turns, because every yield lets the other
 * connections' input pile up meanwhile (more buffers alive, colder caches, twice the GC time).
 */
const WHOLE_MESSAGE_LIMIT = 1024 * 1024;

export interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** What the queue writes through: the connection's protocol and transport. */
export interface QueueSink {
  readonly transport: Duplex;
  /** Writes one frame of data (a whole message, or the first or next fragment); false when the connection can no longer send. */
  writeDataFrame(payload: Buffer, isBinary: boolean, fin: boolean, compress: boolean | undefined): boolean;
  /** Writes complete frames encoded once for many connections; false when the connection can no longer send. */
  writeFrames(frame: Buffer): boolean;
  /** A close requested behind queued data reached the head of the queue. */
  closeNow(code: number | undefined, reason: string | undefined): void;
  /** The queue wrote what it could for now (output flow control re-checks `bufferedAmount`). */
  afterPump(): void;
  /** Everything queued was written and the transport is not backed up: emit the owed `'drain'`. */
  drained(): void;
}

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
 * Shared by every connection's empty lists: most connections never queue anything, and an
 * empty array per list would cost 32 bytes each. Never written to: `append` replaces it first.
 */
const NO_ITEMS: readonly never[] = Object.freeze([]);

/**
 * The drain-paced send queue: a message longer than `fragmentSize` is written one fragment at a
 * time, each once the transport took the previous one, so the automatic pongs, pings and close
 * frames produced meanwhile reach the peer between fragments instead of behind megabytes of
 * data. Messages sent meanwhile queue behind it, in order. Created on a connection's first
 * queued send; most connections never need one.
 */
export class SendQueue {
  readonly #sink: QueueSink;
  readonly #fragmentSize: number;
  #queue: OutgoingItem[] = NO_ITEMS as never[];
  /** Items waiting for the message open at the queue's tail (or in `sendStream`) to finish. */
  #held: OutgoingItem[] = NO_ITEMS as never[];
  #queuedBytes = 0;
  /** The last data accepted for sending had `fin: false`: a message is open. */
  #tailOpen = false;
  /** `sendStream` owns the open message; other messages are held until it ends. */
  streaming = false;
  #closeRequested = false;
  #pumping = false;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  /** A send reported `queued`: a `drain` event is owed once everything is written. */
  #owesDrain = false;
  /** Waiters whose message is with the transport; they resolve once it is not backed up. */
  #handed: Waiter[] = NO_ITEMS as never[];
  /** Waiters whose message was dropped by a close; they reject when the connection closes. */
  #abandoned: Waiter[] = NO_ITEMS as never[];

  /** `messageOpen`: a message sent with `fin: false` before the queue existed is still open. */
  constructor(sink: QueueSink, fragmentSize: number, messageOpen: boolean) {
    this.#sink = sink;
    this.#fragmentSize = fragmentSize;
    this.#tailOpen = messageOpen;
  }

  /** Bytes accepted and not yet handed to the transport. */
  get bytes(): number {
    return this.#queuedBytes;
  }

  /** Nothing waits to be written: a new message may go straight to the transport. */
  get isIdle(): boolean {
    return this.#queue.length === 0 && this.#held.length === 0 && !this.streaming;
  }

  /**
   * Whether a new message may skip the queue: nothing is queued ahead of it, and no
   * `sendStream` owns the connection (unless this is that stream's own next part).
   */
  canWriteDirectly(fromStream: boolean): boolean {
    if (this.#queue.length > 0) return false;
    return this.streaming ? fromStream : this.#held.length === 0;
  }

  /** A fragmented message was started and not finished (by `send` with `fin: false`, or `sendStream`). */
  get messageOpen(): boolean {
    return this.#tailOpen || this.streaming;
  }

  /** A `close()` waits behind queued data. */
  get closeRequested(): boolean {
    return this.#closeRequested;
  }

  /** A message sent straight to the transport (the queue idle): only its `fin` matters here. */
  noteDirect(fin: boolean): void {
    this.#tailOpen = !fin;
  }

  addData(payload: Buffer, isBinary: boolean, fin: boolean, compress: boolean | undefined, waiter: Waiter | undefined, fromStream: boolean): void {
    const item: DataItem = { kind: 'data', payload, offset: 0, isBinary, fin, compress, waiter };
    if (this.streaming && !fromStream) {
      this.#held = append(this.#held, item);
      this.#queuedBytes += payload.length;
      this.#owesDrain = true;
      return;
    }
    this.#accept(item);
    this.pump();
  }

  addFrames(frames: readonly Buffer[], waiter: Waiter | undefined): void {
    this.#accept({ kind: 'frames', frames, index: 0, waiter });
    this.pump();
  }

  addClose(code: number | undefined, reason: string | undefined): void {
    this.#closeRequested = true;
    this.#queue = append(this.#queue, { kind: 'close', code, reason });
    this.pump();
  }

  /** A send was handed to the transport directly: resolve `waiter` once it is not backed up. */
  handed(waiter: Waiter | undefined, backedUp: boolean): void {
    if (backedUp) {
      this.#owesDrain = true;
      if (waiter !== undefined) this.#handed = append(this.#handed, waiter);
    } else {
      waiter?.resolve();
    }
  }

  /** `queued` unless everything is with a transport that is not backed up. */
  status(): boolean {
    if (this.#queue.length === 0 && this.#held.length === 0 && !this.#sink.transport.writableNeedDrain) return false;
    this.#owesDrain = true;
    return true;
  }

  /** `sendStream` ended: messages held behind it may go. */
  endStream(): void {
    this.streaming = false;
    this.#tailOpen = false;
    if (this.#held.length > 0) this.#releaseHeld();
    this.pump();
  }

  /**
   * Writes queued items, a fragment at a time, until the transport pushes back (its `'drain'`
   * resumes it) or one turn's budget is spent (`setImmediate` resumes it, after pending I/O,
   * so pongs and replies to incoming frames go out in between).
   */
  pump(): void {
    if (this.#pumping || this.#immediate !== undefined) return;
    this.#pumping = true;
    try {
      this.#writeQueued();
    } finally {
      this.#pumping = false;
    }
    this.#settle();
    this.#sink.afterPump();
  }

  /** Drops everything queued (a close or a failure): their waiters reject when the connection closes. */
  dropAll(): void {
    for (const item of [...this.#queue, ...this.#held]) {
      if (item.kind !== 'close' && item.waiter !== undefined) this.#abandoned = append(this.#abandoned, item.waiter);
    }
    this.#queue = NO_ITEMS as never[];
    this.#held = NO_ITEMS as never[];
    this.#queuedBytes = 0;
    this.streaming = false;
    this.#closeRequested = false;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  /** The connection closed: every waiter rejects with `error`. */
  rejectAll(error: Error): void {
    this.dropAll();
    this.#owesDrain = false;
    const waiters = [...this.#handed, ...this.#abandoned];
    this.#handed = NO_ITEMS as never[];
    this.#abandoned = NO_ITEMS as never[];
    for (const waiter of waiters) waiter.reject(error);
  }

  /**
   * Puts an item in the queue, keeping its one invariant: complete frames (a broadcast) never
   * sit behind an open message's fragment, because the continuation that closes the message
   * would come after them and the frames could never be written. They wait in `#held` until a
   * data item with `fin: true` closes the message.
   */
  #accept(item: DataItem | FramesItem): void {
    this.#owesDrain = true;
    if (item.kind === 'frames') {
      if (this.#tailOpen || this.streaming) this.#held = append(this.#held, item);
      else this.#queue = append(this.#queue, item);
      for (const frame of item.frames) this.#queuedBytes += frame.length;
      return;
    }
    this.#queue = append(this.#queue, item);
    this.#queuedBytes += item.payload.length;
    this.#tailOpen = !item.fin;
    if (item.fin && this.#held.length > 0) this.#releaseHeld();
  }

  #releaseHeld(): void {
    const held = this.#held;
    this.#held = NO_ITEMS as never[];
    for (const item of held) {
      // Their bytes are counted already; `#accept` counts them again.
      if (item.kind === 'data') this.#queuedBytes -= item.payload.length - item.offset;
      else if (item.kind === 'frames') for (const frame of item.frames) this.#queuedBytes -= frame.length;
      if (item.kind !== 'close') this.#accept(item);
    }
  }

  /** A static method with the queue as argument: no closure per connection. */
  static #resumePump(queue: SendQueue): void {
    queue.#immediate = undefined;
    queue.pump();
  }

  #writeQueued(): void {
    let budget = Math.max(this.#fragmentSize, MIN_TURN_BUDGET);
    const transport = this.#sink.transport;
    while (this.#queue.length > 0) {
      if (transport.destroyed) return;
      // Bytes left in the transport's own buffer mean the kernel is full: wait for 'drain' (it
      // is owed once a write returned false). While the kernel takes each fragment whole, go on.
      if (transport.writableNeedDrain && transport.writableLength > 0) return;
      const item = this.#queue[0]!;
      const finishing = item.kind === 'data' && item.offset > 0 && item.payload.length <= WHOLE_MESSAGE_LIMIT;
      if (budget <= 0 && !finishing) {
        this.#immediate = setImmediate(SendQueue.#resumePump, this);
        return;
      }
      if (item.kind === 'close') {
        this.#queue.shift();
        this.#closeRequested = false;
        this.#sink.closeNow(item.code, item.reason);
        this.dropAll();
        return;
      }
      let written: number;
      let done: boolean;
      let open: boolean;
      if (item.kind === 'frames') {
        const frame = item.frames[item.index]!;
        open = this.#sink.writeFrames(frame);
        written = frame.length;
        item.index++;
        done = item.index === item.frames.length;
      } else {
        const end = Math.min(item.offset + this.#fragmentSize, item.payload.length);
        done = end === item.payload.length;
        open = this.#sink.writeDataFrame(item.payload.subarray(item.offset, end), item.isBinary, item.fin && done, item.compress);
        written = end - item.offset;
        item.offset = end;
      }
      if (!open) {
        this.dropAll();
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

  /** When the transport is not backed up: resolve what it has taken, and emit an owed `'drain'`. */
  #settle(): void {
    const transport = this.#sink.transport;
    if (transport.writableNeedDrain && transport.writableLength > 0) return;
    if (this.#handed.length > 0) {
      const handed = this.#handed;
      this.#handed = NO_ITEMS as never[];
      for (const waiter of handed) waiter.resolve();
    }
    if (this.#owesDrain && this.#queue.length === 0 && this.#held.length === 0) {
      this.#owesDrain = false;
      this.#sink.drained();
    }
  }
}

/** Appends to a lazily allocated list: the shared empty one is replaced, never written to. */
function append<Item>(list: Item[], item: Item): Item[] {
  if ((list as readonly Item[]) === NO_ITEMS) return [item];
  list.push(item);
  return list;
}
