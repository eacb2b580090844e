import { Buffer } from 'node:buffer';

/** What may be interpolated into a {@link hex} template. */
export type HexValue = number | string | Uint8Array;

/**
 * Bytes written as hex, the way frames are drawn in RFC 6455 §5.7: hex`81 05 48 65 6c 6c 6f`.
 * Whitespace and line breaks are ignored and `#` starts a comment that runs to the end of the
 * line, so a frame can be annotated field by field. Interpolated values: a number is one byte
 * (0-255), a string is more hex text, a Uint8Array is inserted as it is. Also callable as a
 * plain function: hex('81 02 68 69').
 *
 * Anything that is not a pair of hex digits throws: a typo in a test vector must not turn into
 * a silently different frame.
 */
export function hex(text: TemplateStringsArray | string, ...values: readonly HexValue[]): Buffer {
  if (typeof text === 'string') return parseHexText(text);
  const parts: Buffer[] = [];
  text.forEach((literal, index) => {
    parts.push(parseHexText(literal));
    if (index < values.length) parts.push(interpolated(values[index]!));
  });
  return Buffer.concat(parts);
}

function interpolated(value: HexValue): Buffer {
  if (typeof value === 'string') return parseHexText(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) {
      throw new RangeError(`hex: an interpolated number is one byte (0-255), got ${value}`);
    }
    return Buffer.of(value);
  }
  return Buffer.from(value);
}

function parseHexText(text: string): Buffer {
  const digits = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    throw new SyntaxError(`hex: ${JSON.stringify(text)} holds characters that are not hex digits`);
  }
  if (digits.length % 2 !== 0) {
    throw new SyntaxError(`hex: ${JSON.stringify(text)} has an odd number of hex digits`);
  }
  return Buffer.from(digits, 'hex');
}

/** Bytes as space-separated hex pairs ("81 02 68 69"), the inverse of {@link hex}. */
export function formatHex(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): string {
  const shown = bytes.length > limit ? bytes.subarray(0, limit) : bytes;
  const pairs = Buffer.from(shown.buffer, shown.byteOffset, shown.byteLength).toString('hex').match(/../g) ?? [];
  const text = pairs.join(' ');
  return bytes.length > limit ? `${text} … (${bytes.length - limit} more bytes)` : text;
}
