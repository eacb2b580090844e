import { Buffer } from 'node:buffer';
import { type Protocol, type ProtocolEvent, SEND_EOF } from '@ws/core';
import { DecodeStep, FrameDecoder } from '@ws/core/wire';

/** Bytes from hex, spaces allowed: hex('81 05 48 65') */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

export const MASK_KEY = hex('37 fa 21 3d');

/** A masked frame (client to server) with MASK_KEY, from its first byte and payload. */
export function maskedFrame(firstByte: number, payload: Uint8Array | string = Buffer.alloc(0)): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const header =
    bytes.length <= 125
      ? Buffer.from([firstByte, 0x80 | bytes.length])
      : bytes.length <= 0xffff
        ? Buffer.from([firstByte, 0x80 | 126, bytes.length >> 8, bytes.length & 0xff])
        : Buffer.concat([Buffer.from([firstByte, 0x80 | 127]), bigEndian64(bytes.length)]);
  const masked = Buffer.from(bytes.map((byte, index) => byte ^ MASK_KEY[index % 4]!));
  return Buffer.concat([header, MASK_KEY, masked]);
}

function bigEndian64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
}

export type Chunking = 'whole' | 'bytewise';
export const CHUNKINGS: readonly Chunking[] = ['whole', 'bytewise'];

/** Feeds bytes to a protocol whole or one byte at a time, collecting events and output. */
export function feed(protocol: Protocol, bytes: Buffer, chunking: Chunking): { events: ProtocolEvent[]; output: Buffer; eof: boolean } {
  const events: ProtocolEvent[] = [];
  const output: Buffer[] = [];
  let eof = false;
  const collect = () => {
    for (const data of protocol.dataToSend()) {
      if (data === SEND_EOF) eof = true;
      else output.push(Buffer.from(data));
    }
    events.push(...protocol.eventsReceived());
  };
  if (chunking === 'whole') {
    protocol.receiveData(Buffer.from(bytes));
    collect();
  } else {
    for (let index = 0; index < bytes.length; index++) {
      protocol.receiveData(Buffer.from(bytes.subarray(index, index + 1)));
      collect();
    }
  }
  return { events, output: Buffer.concat(output), eof };
}

export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Decodes every complete frame in `bytes` (unmasking if needed). */
export function decodeFrames(bytes: Buffer): DecodedFrame[] {
  const decoder = new FrameDecoder();
  const frames: DecodedFrame[] = [];
  decoder.push(Buffer.from(bytes));
  let current: DecodedFrame | undefined;
  let pieces: Buffer[] = [];
  for (;;) {
    const step = decoder.next();
    if (step === DecodeStep.NeedMore) return frames;
    if (step === DecodeStep.Error) throw new Error(decoder.errorMessage);
    if (step === DecodeStep.Header) {
      current = { fin: decoder.fin, rsv: decoder.rsv, opcode: decoder.opcode, masked: decoder.masked, payload: Buffer.alloc(0) };
      pieces = [];
    } else {
      pieces.push(Buffer.from(decoder.payload));
      if (decoder.frameComplete) {
        current!.payload = Buffer.concat(pieces);
        frames.push(current!);
      }
    }
  }
}

/** The status code of the close frame in `output`, or undefined. */
export function closeCodeIn(output: Buffer): number | undefined {
  const close = decodeFrames(output).find((frame) => frame.opcode === 0x8);
  if (close === undefined) return undefined;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}
