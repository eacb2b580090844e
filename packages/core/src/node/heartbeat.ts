import { positiveOption } from './option-checks.js';

/** The `heartbeat` option: how often to ping the peer and how long a ping may go unanswered. */
export interface HeartbeatOptions {
  /** Time between pings to a peer, in ms. */
  readonly interval?: number;
  /** How long a ping may go unanswered before the peer is given up (1006, `heartbeat timeout`), in ms. */
  readonly timeout?: number;
}

/** The heartbeat's methods on a peer, under symbols: they are not part of a connection's API. */
export const kHeartbeatPing: unique symbol = Symbol('heartbeat.ping');
export const kHeartbeatExempt: unique symbol = Symbol('heartbeat.exempt');
export const kHeartbeatTimedOut: unique symbol = Symbol('heartbeat.timedOut');

/** What the heartbeat needs of a connection. */
export interface HeartbeatPeer {
  [kHeartbeatPing](): void;
  /**
   * Whether the peer cannot be expected to answer now: the application stopped reading it, or
   * output to it is still being written (its pong may sit unread behind our paused reading).
   */
  [kHeartbeatExempt](): boolean;
  /** Called once when the peer has not answered within the timeout. */
  [kHeartbeatTimedOut](): void;
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
 * Keeps connections alive, or finds out they are dead, with ONE interval timer for all of them:
 * a server with 100,000 connections arms one timer, not 100,000. RFC 6455 §5.5.2: "A Ping frame
 * may serve either as a keepalive or as a means to verify that the remote endpoint is still
 * responsive."
 *
 * The timer ticks every `min(interval, timeout)`. On each tick, a peer with an outstanding ping
 * older than `timeout` is timed out; a peer without one, pinged `interval` ago or more, is pinged.
 * So a peer is pinged every `interval` to `interval + tick`, and a dead one is given up between
 * `timeout` and `timeout + tick` after its ping. Any pong answers the outstanding ping (RFC 6455
 * §5.5.3 lets a pong answer "the most recently processed" ping) and measures the round trip.
 * The timer never keeps the process alive.
 */
export class Heartbeat {
  readonly interval: number;
  readonly timeout: number;
  readonly #now: () => number;
  readonly #peers = new Map<HeartbeatPeer, PeerState>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * `defaults` are the role's (a server pings every 30 s; see `HEARTBEAT_DEFAULTS`). `now` is a
   * monotonic clock in ms, `performance.now` unless a test injects one.
   */
  constructor(options: HeartbeatOptions, defaults: Required<HeartbeatOptions>, now: () => number = () => performance.now()) {
    this.interval = positiveOption(options.interval, defaults.interval, 'heartbeat.interval', false);
    this.timeout = positiveOption(options.timeout, defaults.timeout, 'heartbeat.timeout', false);
    this.#now = now;
  }

  /** The `heartbeat` option as a heartbeat, or undefined when it is off (`false`). */
  static fromOption(
    option: HeartbeatOptions | boolean | undefined,
    defaults: Required<HeartbeatOptions> & { readonly enabled: boolean },
  ): Heartbeat | undefined {
    const enabled = option === undefined ? defaults.enabled : option !== false;
    if (!enabled) return undefined;
    if (option !== undefined && typeof option !== 'boolean' && (typeof option !== 'object' || option === null)) {
      throw new TypeError('The "heartbeat" option must be a boolean or { interval, timeout }');
    }
    return new Heartbeat(typeof option === 'object' ? option : {}, defaults);
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
      this.#timer = setInterval(this.#tick, Math.min(this.interval, this.timeout));
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
      if (peer[kHeartbeatExempt]()) {
        state.pingSentAt = -1;
        state.lastPingAt = Math.floor(now);
      } else if (state.pingSentAt >= 0) {
        if (now - state.pingSentAt >= this.timeout) timedOut.push(peer);
      } else if (now - state.lastPingAt >= this.interval) {
        state.pingSentAt = now;
        state.lastPingAt = Math.floor(now);
        peer[kHeartbeatPing]();
      }
    }
    for (const peer of timedOut) {
      this.#peers.delete(peer);
      peer[kHeartbeatTimedOut]();
    }
    if (this.#peers.size === 0) this.stop();
  };
}
