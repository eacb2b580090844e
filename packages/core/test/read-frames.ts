import { Buffer } from 'node:buffer';

export interface WireFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly payload: Buffer;
}

/**
 * Splits frames out of raw bytes, independently of @ws/core's decoder, so that the tests check
 * the wire and not the code under test against itself. `masked` says which side wrote them: a
 * client's frames must be masked (and are unmasked here), a server's must not. Throws on a
 * frame masked the wrong way or trailing bytes that do not form a whole frame.
 */
export function readFrames(bytes: Buffer, masked = false): WireFrame[] {
  const frames: WireFrame[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 2) throw new Error(`Truncated header at ${offset}`);
    const first = bytes[offset]!;
    const second = bytes[offset + 1]!;
    if (((second & 0x80) !== 0) !== masked) throw new Error(`Frame at ${offset} is ${masked ? 'not ' : ''}masked`);
    let length = second & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    const key = masked ? bytes.subarray(at, at + 4) : undefined;
    if (key !== undefined) at += 4;
    if (at + length > bytes.length) throw new Error(`Truncated payload at ${offset}`);
    let payload = bytes.subarray(at, at + length);
    // RFC 6455 §5.3: "octet i of the transformed data is the XOR of octet i of the original data
    // with octet at index i modulo 4 of the masking key".
    if (key !== undefined) payload = Buffer.from(payload.map((byte, index) => byte ^ key[index % 4]!));
    frames.push({ fin: (first & 0x80) !== 0, rsv: first & 0x70, opcode: first & 0x0f, payload });
    offset = at + length;
  }
  return frames;
}

/** Server-to-client frames (unmasked). */
export function readServerFrames(bytes: Buffer): WireFrame[] {
  return readFrames(bytes, false);
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
