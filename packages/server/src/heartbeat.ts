import { InvalidStateError } from '@ws/core';

/** What the heartbeat needs of a connection. */
export interface HeartbeatPeer {
  ping(): unknown;
  /** A peer whose socket we do not read cannot answer: it is not timed out while paused. */
  isPaused(): boolean;
  /** Called once when the peer has not answered within the timeout. */
  heartbeatTimedOut(): void;
}

export interface HeartbeatOptions {
  /** Time between pings to a peer. */
  readonly interval: number;
  /** How long a ping may go unanswered before the peer is given up. */
  readonly timeout: number;
  /** Milliseconds on a monotonic clock; `performance.now` unless a test injects one. */
  readonly now?: () => number;
}

interface PeerState {
  /** When the unanswered ping was sent; -1 when no ping is outstanding. */
  pingSentAt: number;
  /**
   * When the last ping was sent, or the peer was added, in whole milliseconds: a small integer
   * is stored in place, where a fractional time would cost every connection a boxed number.
   */
  lastPingAt: number;
}

/**
 * Keeps every connection of a server alive, or finds out it is dead, with ONE interval timer for
 * all of them: a server with 100,000 connections arms one timer, not 100,000.
 *
 * The timer ticks every `min(interval, timeout)`. On each tick, a peer with an outstanding ping
 * older than `timeout` is timed out; a peer without one, pinged `interval` ago or more, is pinged.
 * So a peer is pinged every `interval` to `interval + tick`, and a dead one is given up between
 * `timeout` and `timeout + tick` after its ping. Any pong answers the outstanding ping (RFC 6455
 * §5.5.3 lets a pong answer "the most recently processed" ping) and measures the round trip.
 */
export class Heartbeat {
  readonly #interval: number;
  readonly #timeout: number;
  readonly #now: () => number;
  readonly #peers = new Map<HeartbeatPeer, PeerState>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: HeartbeatOptions) {
    if (!(options.interval > 0) || !Number.isFinite(options.interval)) {
      throw new InvalidStateError('heartbeatInterval must be a positive number of milliseconds', 'heartbeatInterval');
    }
    if (!(options.timeout > 0) || !Number.isFinite(options.timeout)) {
      throw new InvalidStateError('heartbeatTimeout must be a positive number of milliseconds', 'heartbeatTimeout');
    }
    this.#interval = options.interval;
    this.#timeout = options.timeout;
    this.#now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#peers.size;
  }

  /** Whether the shared timer is armed (only while there are peers). */
  get isRunning(): boolean {
    return this.#timer !== undefined;
  }

  add(peer: HeartbeatPeer): void {
    this.#peers.set(peer, { pingSentAt: -1, lastPingAt: Math.floor(this.#now()) });
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#tick, Math.min(this.#interval, this.#timeout));
      // The heartbeat alone never keeps the process alive; the listening socket does.
      this.#timer.unref?.();
    }
  }

  delete(peer: HeartbeatPeer): void {
    this.#peers.delete(peer);
    if (this.#peers.size === 0) this.stop();
  }

  /** A pong arrived; returns the round-trip time in ms when it answers an outstanding ping. */
  pongReceived(peer: HeartbeatPeer): number | undefined {
    const state = this.#peers.get(peer);
    if (state === undefined || state.pingSentAt < 0) return undefined;
    const latency = this.#now() - state.pingSentAt;
    state.pingSentAt = -1;
    return latency;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  readonly #tick = (): void => {
    const now = this.#now();
    const timedOut: HeartbeatPeer[] = [];
    for (const [peer, state] of this.#peers) {
      if (peer.isPaused()) {
        // The application stopped reading; the pong may be sitting unread in the socket.
        state.pingSentAt = -1;
        state.lastPingAt = Math.floor(now);
      } else if (state.pingSentAt >= 0) {
        if (now - state.pingSentAt >= this.#timeout) timedOut.push(peer);
      } else if (now - state.lastPingAt >= this.#interval) {
        state.pingSentAt = now;
        state.lastPingAt = Math.floor(now);
        peer.ping();
      }
    }
    for (const peer of timedOut) {
      this.#peers.delete(peer);
      peer.heartbeatTimedOut();
    }
    if (this.#peers.size === 0) this.stop();
  };
}
