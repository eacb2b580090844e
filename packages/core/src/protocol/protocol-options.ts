import type { Extension } from '../extensions/extension.js';
import type { ProtocolLimits } from './limits.js';

/** How incoming data messages are delivered. */
export const ReceiveMode = {
  /** One `message` event per message, its fragments assembled. */
  Message: 'message',
  /** `piece` events as payload bytes arrive, never assembled. */
  Stream: 'stream',
} as const;

export type ReceiveMode = (typeof ReceiveMode)[keyof typeof ReceiveMode];

export interface ProtocolOptions extends ProtocolLimits {
  readonly receiveMode?: ReceiveMode;
  /**
   * Hold the reply to the peer's close frame until the I/O layer calls `sendCloseEcho()`, so
   * the application can still answer the messages that arrived before it. RFC 6455 §5.5.1:
   * "An endpoint MAY delay sending a Close frame until its current message is sent". The
   * close frame that fails the connection is held the same way when whole messages arrived
   * before the violation and were not handed out yet. Default false: either close frame is
   * written as soon as the input that calls for it is parsed.
   */
  readonly deferCloseEcho?: boolean;
  /** Extensions negotiated in the handshake, in the order the response listed them. */
  readonly extensions?: readonly Extension[];
  /**
   * The most work one `receiveData` (or `continueReceiving`) call does: each frame counts
   * `FRAME_WORK` and each byte an extension decodes (inflates) counts one. Past it, the call
   * stops with the rest of the input kept and `hasPendingWork` set; the I/O layer calls
   * `continueReceiving()` later (on the next turn of its event loop), so a flood of tiny frames
   * or a small message that inflates to megabytes is worked through in bounded steps. Default
   * Infinity: everything received is processed at once.
   */
  readonly workBudget?: number;
}

/** What one frame costs against `workBudget`: about what decoding 256 bytes of inflated output does. */
export const FRAME_WORK = 256;

export interface SendOptions {
  /** False leaves the message open: more fragments follow with `sendContinuation`. Default true. */
  readonly fin?: boolean;
  /** False sends this message untransformed by the negotiated extensions. Default true. */
  readonly compress?: boolean;
}

/** A limit option's value, or `fallback` when it is not given. Throws RangeError naming the option. */
export function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !(Number.isSafeInteger(value) || value === Infinity)) {
    throw new RangeError(`The "${name}" option must be a positive integer or Infinity; received ${String(value)}`);
  }
  return value;
}

/**
 * The RSV bits the negotiated extensions give a meaning to, together. Throws TypeError for two
 * extensions that claim the same bit: a frame carrying it must go to exactly one of them.
 */
export function extensionRsvBits(extensions: readonly Extension[]): number {
  let rsvBits = 0;
  for (const extension of extensions) {
    if ((rsvBits & extension.rsvBits) !== 0) {
      throw new TypeError(`Extensions claim the same RSV bit (${extension.name})`);
    }
    rsvBits |= extension.rsvBits;
  }
  return rsvBits;
}
