import type { ProtocolError } from '../errors/protocol-error.js';

/**
 * The seam through which a negotiated extension (RFC 6455 §9) transforms messages.
 *
 * An extension owns one or more RSV bits. A data message whose first frame carries one of
 * them is passed through `decode`, piece by piece, before UTF-8 validation and delivery; an
 * outgoing message that the extension chooses to transform is passed through `encode`, and
 * its first frame carries the extension's bit. RFC 7692 §6 fixes this shape for
 * permessage-deflate: "A message with the "Per-Message Compressed" bit set on the first fragment
 * of the message is called a "compressed message"".
 *
 * Decoding is synchronous so that the protocol can enforce its limits on the decoded size
 * before memory is spent, and so that no queue of pending work can grow without bound.
 */
export interface Extension {
  /** The registered extension token, e.g. `permessage-deflate`. */
  readonly name: string;
  /** The RSV bits (0x40 RSV1, 0x20 RSV2, 0x10 RSV3) this extension gives a meaning to. */
  readonly rsvBits: number;
  /**
   * Transforms one piece of an incoming message. `messageEnd` is true on the last piece.
   * Returns the decoded bytes (possibly empty), or a `ProtocolError` when the input is
   * invalid or would decode to more than `maxOutputLength` bytes. Past about `outputBudget`
   * bytes it may stop early and set `decodePending`: the rest of the piece is decoded by
   * `decodeMore`, so that a small piece that decodes to megabytes is worked through in bounded
   * steps. Nothing else may be decoded until then.
   */
  decode(piece: Uint8Array, messageEnd: boolean, maxOutputLength: number, outputBudget?: number): Uint8Array | ProtocolError;
  /** The last `decode` (or `decodeMore`) stopped at its budget with output still to come. */
  readonly decodePending: boolean;
  /** The next part of the output of the piece `decode` stopped in. */
  decodeMore(maxOutputLength: number, outputBudget?: number): Uint8Array | ProtocolError;
  /** Whether to transform an outgoing message of this size (e.g. a compression threshold). */
  shouldEncode(byteLength: number): boolean;
  /** Transforms one fragment of an outgoing message; `messageEnd` is true on its last fragment. */
  encode(data: Uint8Array, messageEnd: boolean): Uint8Array;
  /** Drops any state held for an unfinished message (the connection is gone). */
  dispose(): void;
}
