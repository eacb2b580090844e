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
  /** The protocol holds input it has not worked through yet (its work budget per turn was spent). */
  Work: 32,
} as const;

export type ReadPause = (typeof ReadPause)[keyof typeof ReadPause];

/**
 * The bytes one connection may hand its protocol per turn of the event loop: 8 MiB, a
 * millisecond or two of unmasking and copying. The protocol bounds the rest of the work per
 * call itself (frames and inflated bytes, its `workBudget`), so bytes are all that is counted
 * here; counting a large message's bytes more tightly cut it over several turns, which cost
 * large-message throughput without making anyone's turn fairer.
 */
const TURN_BYTES = 8 * 1024 * 1024;

/** The turn of the event loop, advanced by one shared `setImmediate` while any input flows. */
let currentTurn = 1;
let turnAdvanceScheduled = false;

function advanceTurn(): void {
  turnAdvanceScheduled = false;
  currentTurn++;
}

/** Notes that input flows in this turn: the turn counter advances at the next check phase. */
function noteTurn(): void {
  if (!turnAdvanceScheduled) {
    turnAdvanceScheduled = true;
    setImmediate(advanceTurn);
  }
}

/**
 * The protocol work (frames, inflated bytes: see `Protocol`'s `workBudget`) all connections of
 * the process may do in one turn of the event loop together: a few milliseconds. Per-connection
 * budgets alone let a hundred connections each inflate their megabyte in the same turn.
 */
const SHARED_TURN_WORK = 4 * 1024 * 1024;
/** What one call may always do, even past the shared budget: a small message is never held back a turn. */
const MIN_CALL_WORK = 16 * 1024;
let sharedWorkTurn = 0;
let sharedWorkLeft = SHARED_TURN_WORK;

/** The work budget for one protocol call now: at most `perCall`, within what this turn has left. */
export function turnWorkBudget(perCall: number): number {
  noteTurn();
  if (sharedWorkTurn !== currentTurn) {
    sharedWorkTurn = currentTurn;
    sharedWorkLeft = SHARED_TURN_WORK;
  }
  return Math.max(MIN_CALL_WORK, Math.min(perCall, sharedWorkLeft));
}

/** Counts a protocol call's work against this turn's shared budget. */
export function spendTurnWork(work: number): void {
  sharedWorkLeft -= work;
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

  /** Counts one chunk against this turn's budget; past it, reading waits for the next turn. */
  spend(bytes: number): void {
    if (this.#turn !== currentTurn) {
      this.#turn = currentTurn;
      this.#turnCost = 0;
      noteTurn();
    }
    this.#turnCost += bytes;
    if (this.#turnCost > TURN_BYTES && (this.#reasons & ReadPause.Turn) === 0) {
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
