import type { Buffer } from 'node:buffer';

export interface WireFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly payload: Buffer;
}

/**
 * Splits unmasked (server-to-client) frames out of raw bytes, independently of @ws/core's
 * decoder, so that the tests check the wire and not the code under test against itself.
 * Throws on a masked frame or trailing bytes that do not form a whole frame.
 */
export function readServerFrames(bytes: Buffer): WireFrame[] {
  const frames: WireFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 2) throw new Error(`Truncated header at ${offset}`);
    const first = bytes[offset]!;
    const second = bytes[offset + 1]!;
    if ((second & 0x80) !== 0) throw new Error(`Masked server frame at ${offset}`);
    let length = second & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    if (at + length > bytes.length) throw new Error(`Truncated payload at ${offset}`);
    frames.push({ fin: (first & 0x80) !== 0, rsv: first & 0x70, opcode: first & 0x0f, payload: bytes.subarray(at, at + length) });
    offset = at + length;
  }
  return frames;
}

/** A compact picture of a frame sequence for assertions, e.g. `bin~1024`, `cont.1024`, `ping`. */
export function describeFrames(frames: readonly WireFrame[]): string[] {
  const names: Record<number, string> = { 0: 'cont', 1: 'text', 2: 'bin', 8: 'close', 9: 'ping', 10: 'pong' };
  return frames.map((frame) => {
    const name = names[frame.opcode] ?? `op${frame.opcode}`;
    if (frame.opcode >= 8) {
      return frame.opcode === 8 && frame.payload.length >= 2 ? `close ${frame.payload.readUInt16BE(0)}` : name;
    }
    return `${name}${frame.fin ? '.' : '~'}${frame.payload.length}`;
  });
}
