/**
 * Default limits, chosen to be safe for a server facing the open internet while admitting
 * every message a conformance suite or a browser application legitimately sends.
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_FRAME_SIZE = DEFAULT_MAX_MESSAGE_SIZE;
/** Automatic pongs that may wait in the write path while the peer does not read. */
export const DEFAULT_MAX_PENDING_PONGS = 256;

/**
 * What each fragment of a fragmented message costs against `maxMessageSize`, on top of its
 * payload bytes. It is about what V8 spends on a Buffer view and its bookkeeping, so the
 * budget bounds the memory and work a message may cause, not just its payload: a 4 MiB
 * message in 65,536 fragments of 64 bytes costs 4 MiB + 11.25 MiB and passes the default
 * 16 MiB budget, while a stream of empty fragments is failed with 1009 after about 93,000.
 * An unfragmented message is charged its payload only.
 */
export const FRAGMENT_OVERHEAD = 180;

export interface ProtocolLimits {
  /** Largest frame payload accepted, checked from the header before any byte is buffered (1009). Default 16 MiB. */
  readonly maxFrameSize?: number;
  /** Largest message accepted, all fragments counted with their overhead (1009). Default 16 MiB. */
  readonly maxMessageSize?: number;
  /** Automatic pongs allowed to wait unsent while the output is blocked; past it, close 1008. Default 256. */
  readonly maxPendingPongs?: number;
}
