import type { Duplex } from 'node:stream';

/** Why a connection is not reading its transport; several can hold at once. */
export const ReadPause = {
  /** The application called `pause()`. */
  Application: 1,
  /** A `messages()` consumer holds more than `receiveHighWaterMark` unread. */
  Inbox: 2,
  /** More than `outputHighWaterMark` bytes wait to be written: the peer must read before it may send more. */
  Output: 4,
  /** This turn's input budget is spent: the rest waits for the next turn, so other connections get theirs. */
  Turn: 8,
  /** The connection failed: nothing more is read until its close frame is out. */
  Failed: 16,
} as const;

export type ReadPause = (typeof ReadPause)[keyof typeof ReadPause];

/**
 * The work one connection's input may cause in one turn of the event loop, in units of about a
 * quarter of a nanosecond: a frame costs 256 (its header, events and bookkeeping), a payload
 * byte 1/8 (unmasking and copying run at several GB/s). So about 4,000 tiny frames, or 8 MiB of
 * large ones, per turn: around a millisecond or two of decoding either way. Counting bytes at
 * full weight cut every large message over turns, which cost large-message echo throughput
 * (pausing and resuming each transport per message) without making anyone's turn fairer.
 */
const TURN_BUDGET = 1024 * 1024;
const FRAME_COST = 256;
const BYTE_COST = 1 / 8;

/** The turn of the event loop, advanced by one shared `setImmediate` while any input flows. */
let currentTurn = 1;
let turnAdvanceScheduled = false;

function advanceTurn(): void {
  turnAdvanceScheduled = false;
  currentTurn++;
}

/**
 * Decides whether a transport is read: it is paused while any {@link ReadPause} reason holds,
 * and resumed when none does. TCP (or HTTP/2 flow control) then pushes back on the peer.
 */
export class ReadGate {
  readonly #transport: Duplex;
  #reasons = 0;
  #started = false;
  #turn = 0;
  #turnCost = 0;
  /** `bytesWritten` when the heartbeat last asked, to tell a slow reader from one that stopped. */
  #bytesWrittenSeen = -1;

  constructor(transport: Duplex) {
    this.#transport = transport;
  }

  get isPaused(): boolean {
    return this.#reasons !== 0;
  }

  /** Paused by the application or by a `messages()` consumer: the peer's answers may sit unread by choice. */
  get isWaitingOnApplication(): boolean {
    return (this.#reasons & (ReadPause.Application | ReadPause.Inbox)) !== 0;
  }

  /** Starts applying the reasons to the transport (before that, it stays as the handshake left it). */
  start(): void {
    this.#started = true;
    if (this.#reasons !== 0) this.#transport.pause();
    else this.#transport.resume();
  }

  /** Stops for good: the transport is gone. */
  stop(): void {
    this.#started = false;
  }

  set(reason: ReadPause, on: boolean): void {
    const before = this.#reasons;
    const after = on ? before | reason : before & ~reason;
    if (after === before) return;
    this.#reasons = after;
    if (!this.#started) return;
    if (before === 0) this.#transport.pause();
    else if (after === 0) this.#transport.resume();
  }

  /** Counts one chunk's work against this turn's budget; past it, reading waits for the next turn. */
  spend(bytes: number, frames: number): void {
    if (this.#turn !== currentTurn) {
      this.#turn = currentTurn;
      this.#turnCost = 0;
      if (!turnAdvanceScheduled) {
        turnAdvanceScheduled = true;
        setImmediate(advanceTurn);
      }
    }
    this.#turnCost += bytes * BYTE_COST + frames * FRAME_COST;
    if (this.#turnCost > TURN_BUDGET && (this.#reasons & ReadPause.Turn) === 0) {
      this.set(ReadPause.Turn, true);
      setImmediate(ReadGate.#nextTurn, this);
    }
  }

  static #nextTurn(gate: ReadGate): void {
    gate.#turnCost = 0;
    gate.set(ReadPause.Turn, false);
  }

  /**
   * Whether output is paused on a peer that is still reading it: the transport wrote bytes since
   * the last call. A peer that stopped reading altogether makes no progress and is not exempt.
   */
  outputProgressed(): boolean {
    if ((this.#reasons & ReadPause.Output) === 0) return false;
    const written = (this.#transport as Partial<{ bytesWritten: number }>).bytesWritten ?? 0;
    const progressed = written !== this.#bytesWrittenSeen;
    this.#bytesWrittenSeen = written;
    return progressed;
  }
}
