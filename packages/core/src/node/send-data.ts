import { Buffer } from 'node:buffer';

/** What a message can be sent as: a string is text (UTF-8), anything else is bytes. */
export type SendData = string | Buffer | Uint8Array | ArrayBuffer | ArrayBufferView;

/** The bytes of a binary send, as a Buffer over the same memory (no copy). */
export function toBuffer(data: Exclude<SendData, string>): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('The "data" argument must be a string, Buffer, ArrayBuffer or ArrayBufferView');
}

/** The payload of a send: UTF-8 bytes for a string sent as binary, the string itself for text. */
export function toPayload(data: SendData, isBinary: boolean): Buffer | string {
  if (typeof data === 'string') return isBinary ? Buffer.from(data, 'utf8') : data;
  return toBuffer(data);
}

/**
 * Whether a payload fits in one fragment of `fragmentSize` bytes. A string is measured as
 * UTF-8 (at most 3 bytes per UTF-16 unit) only when it could be too long.
 */
export function fitsInOneFragment(payload: Buffer | string, fragmentSize: number): boolean {
  if (typeof payload !== 'string') return payload.length <= fragmentSize;
  return payload.length * 3 <= fragmentSize || Buffer.byteLength(payload, 'utf8') <= fragmentSize;
}
