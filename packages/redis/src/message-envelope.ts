import { Buffer } from 'node:buffer';
import type { PublishFlags } from '@ws/server';

/**
 * What a Redis message carries: a small binary header and the payload as it is (no base64, no
 * JSON), so binary and text cross unchanged and cost one copy.
 *
 * ```
 * byte 0      format version (1)
 * byte 1      flags: bit 0 binary, bit 1 compress
 * bytes 2-17  the publishing adapter's origin id: a process drops its own messages
 * bytes 18-   the payload
 * ```
 */
export const ENVELOPE_VERSION = 1;
export const ORIGIN_ID_LENGTH = 16;
const HEADER_LENGTH = 2 + ORIGIN_ID_LENGTH;

const Flag = { Binary: 0b01, Compress: 0b10 } as const;

export function encodeEnvelope(origin: Buffer, payload: Buffer, flags: PublishFlags): Buffer {
  const envelope = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  envelope[0] = ENVELOPE_VERSION;
  envelope[1] = (flags.binary ? Flag.Binary : 0) | (flags.compress ? Flag.Compress : 0);
  origin.copy(envelope, 2, 0, ORIGIN_ID_LENGTH);
  payload.copy(envelope, HEADER_LENGTH);
  return envelope;
}

export interface Envelope {
  readonly origin: Buffer;
  readonly flags: PublishFlags;
  readonly payload: Buffer;
}

/** The parts of a received message (views into it); undefined for one not in this format. */
export function decodeEnvelope(message: Buffer): Envelope | undefined {
  if (message.length < HEADER_LENGTH || message[0] !== ENVELOPE_VERSION) return undefined;
  const flags = message[1]!;
  return {
    origin: message.subarray(2, HEADER_LENGTH),
    flags: { binary: (flags & Flag.Binary) !== 0, compress: (flags & Flag.Compress) !== 0 },
    payload: message.subarray(HEADER_LENGTH),
  };
}
