import { BackpressurePolicy } from './send-status.js';
import type { HeartbeatOptions } from './heartbeat.js';
import { oneOfOption, positiveOption } from './option-checks.js';

/** The options every connection takes, server or client: one model, documented once. */
export interface ConnectionOptions {
  /** How long the closing handshake may take before the transport is destroyed, in ms. Default 5000. */
  readonly closeTimeout?: number;
  /**
   * Outgoing messages longer than this many bytes are sent as fragments of this size, each once
   * the transport took the previous one, so pongs and close frames are not stuck behind a large
   * message. Default 128 KiB (about the 131,000-byte fragments Chromium sends its own large messages in).
   */
  readonly fragmentSize?: number;
  /**
   * While replies to the peer's messages (sent from a `'message'` listener) leave more than this
   * many bytes unwritten (`bufferedAmount`), the connection stops reading from the peer: TCP then
   * slows a peer that sends faster than it reads our replies, and it is never closed for it.
   * Default 1 MiB.
   */
  readonly outputHighWaterMark?: number;
  /** `bufferedAmount` past which `onBackpressure` applies to a send. Default 16 MiB. */
  readonly maxBufferedAmount?: number;
  /**
   * What `send` does past `maxBufferedAmount`: `close` (1008 and `closed`; a reply to the peer's
   * own message is exempt, since reading already stopped), `drop` (send nothing, report
   * `dropped`) or `wait` (queue, report `queued`). `sendAsync` waits instead. Default: `close`
   * on the server, `wait` on the client.
   */
  readonly onBackpressure?: BackpressurePolicy;
  /** Bytes received and not yet read by a `messages()` iterator past which reading stops. Default 1 MiB. */
  readonly receiveHighWaterMark?: number;
  /**
   * Ping the peer every `interval` ms and destroy the connection (1006, `heartbeat timeout`) when
   * a pong does not come within `timeout` ms. Default: on at the server (30 s / 30 s), off at
   * the client.
   */
  readonly heartbeat?: HeartbeatOptions | boolean;
}

export const DEFAULT_CLOSE_TIMEOUT = 5_000;
export const DEFAULT_FRAGMENT_SIZE = 128 * 1024;
export const DEFAULT_OUTPUT_HIGH_WATER_MARK = 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_AMOUNT = 16 * 1024 * 1024;
export const DEFAULT_RECEIVE_HIGH_WATER_MARK = 1024 * 1024;
/**
 * The protocol work one call may do for a connection on the engine (see `Protocol`'s
 * `workBudget`): about 4,000 tiny frames or 1 MiB of inflated output, then the rest on the next
 * turn. The engine also shares a budget per turn among all connections (read-gate.ts).
 */
export const PROTOCOL_WORK_BUDGET = 1024 * 1024;

/**
 * Role defaults. The server pings (a server outlives its peers, and a vanished peer would hold
 * its memory for hours) and closes a peer that does not drain what is broadcast to it; the
 * client does neither by default, like a browser: its output is its own application's, and the
 * server's heartbeat keeps the connection alive.
 */
export const SERVER_DEFAULTS = {
  onBackpressure: BackpressurePolicy.Close,
  heartbeat: { enabled: true, interval: 30_000, timeout: 30_000 },
} as const;

export const CLIENT_DEFAULTS = {
  onBackpressure: BackpressurePolicy.Wait,
  heartbeat: { enabled: false, interval: 30_000, timeout: 10_000 },
} as const;

/** The options resolved and checked, as the engine holds them. */
export interface ResolvedConnectionOptions {
  readonly closeTimeout: number;
  readonly fragmentSize: number;
  readonly outputHighWaterMark: number;
  readonly maxBufferedAmount: number;
  readonly onBackpressure: BackpressurePolicy;
  readonly receiveHighWaterMark: number;
}

const POLICIES = Object.values(BackpressurePolicy);

/** Checks the options (a `TypeError`/`RangeError` naming the bad one) and fills in the defaults. */
export function resolveConnectionOptions(
  options: ConnectionOptions,
  defaults: { readonly onBackpressure: BackpressurePolicy },
): ResolvedConnectionOptions {
  return {
    closeTimeout: positiveOption(options.closeTimeout, DEFAULT_CLOSE_TIMEOUT, 'closeTimeout', false),
    fragmentSize: positiveOption(options.fragmentSize, DEFAULT_FRAGMENT_SIZE, 'fragmentSize'),
    outputHighWaterMark: positiveOption(options.outputHighWaterMark, DEFAULT_OUTPUT_HIGH_WATER_MARK, 'outputHighWaterMark'),
    maxBufferedAmount: positiveOption(options.maxBufferedAmount, DEFAULT_MAX_BUFFERED_AMOUNT, 'maxBufferedAmount'),
    onBackpressure: oneOfOption(options.onBackpressure, POLICIES, defaults.onBackpressure, 'onBackpressure'),
    receiveHighWaterMark: positiveOption(options.receiveHighWaterMark, DEFAULT_RECEIVE_HIGH_WATER_MARK, 'receiveHighWaterMark'),
  };
}
