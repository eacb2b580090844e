import type { Duplex } from 'node:stream';
import { type OutgoingData, SEND_EOF } from '@ws/core';

/**
 * Writes what the protocol produced to the transport: one `write` for a single buffer, else
 * every buffer under one `cork` (one `writev`), `SEND_EOF` as a half-close. Returns whether
 * the transport is backed up (a write returned false).
 */
export function flushOutput(transport: Duplex, output: readonly OutgoingData[]): boolean {
  if (output.length === 1 && output[0] !== SEND_EOF) return !transport.write(output[0]);
  let blocked = false;
  transport.cork();
  for (const data of output) {
    if (data === SEND_EOF) transport.end();
    else if (!transport.writableEnded) blocked = !transport.write(data) || blocked;
  }
  transport.uncork();
  return blocked;
}
