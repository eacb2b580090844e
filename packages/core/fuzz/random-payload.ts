import { Buffer } from 'node:buffer';
import type { RandomSource } from './random-source.js';

/** Characters of every UTF-8 length: 1, 2, 3 and 4 bytes, and U+FEFF, which some decoders drop. */
const CHARACTERS = [
  'a',
  'b',
  'z',
  ' ',
  '{',
  '"',
  '\u00e9',
  '\u00ff',
  '\u20ac',
  '\ufeff',
  '\uffff',
  '\u{1f600}',
  '\u{10ffff}',
];
const WORDS = ['hello', 'world', '{"id":', '"name":', 'true,', '\u00e9t\u00e9 ', '\u20ac100 ', '\u{1f600}\u{1f600} '];

/**
 * A unit that is repeated to the wanted length: repetition is what makes text compressible,
 * and filling by repetition (Buffer#fill) keeps 64 KiB payloads cheap to build.
 */
function textUnit(random: RandomSource): Buffer {
  const parts: string[] = [];
  const count = random.between(1, 24);
  const fromWords = random.chance(0.5);
  for (let index = 0; index < count; index++) parts.push(random.pick(fromWords ? WORDS : CHARACTERS));
  return Buffer.from(parts.join(''), 'utf8');
}

/** Cuts a partial character off the end of valid UTF-8 and pads with ASCII to keep the length. */
function endOnCharacterBoundary(bytes: Buffer): Buffer {
  let lead = bytes.length - 1;
  while (lead >= 0 && lead > bytes.length - 4 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return bytes;
  const first = bytes[lead]!;
  const width = first < 0x80 ? 1 : first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : 2;
  if (lead + width > bytes.length) bytes.fill(0x78, lead);
  return bytes;
}

/** Valid UTF-8 of exactly `length` bytes. */
export function randomText(random: RandomSource, length: number): Buffer {
  if (length === 0) return Buffer.alloc(0);
  const unit = textUnit(random);
  const bytes = Buffer.alloc(length, unit);
  return endOnCharacterBoundary(bytes);
}

/** Binary data: random (incompressible), zeros (a compression bomb when long) or a repeated pattern. */
export function randomBinary(random: RandomSource, length: number): Buffer {
  const style = random.below(3);
  if (style === 0 || length === 0) return Buffer.alloc(length);
  if (style === 1) return Buffer.alloc(length, random.fill(Buffer.allocUnsafe(random.between(1, 32))));
  const unique = random.fill(Buffer.allocUnsafe(Math.min(length, 4096)));
  return length === unique.length ? unique : Buffer.alloc(length, unique);
}

/** Random bytes: control frame payloads, junk. */
export function randomBytes(random: RandomSource, length: number): Buffer {
  return random.fill(Buffer.allocUnsafe(length));
}

/**
 * Byte sequences that are not UTF-8 (RFC 3629 §3 and §4): a byte that never appears, an overlong
 * form, a surrogate, a code point past U+10FFFF, a lone continuation byte, a truncated sequence.
 */
const INVALID_UTF8 = [
  [0xff],
  [0xc0, 0x80],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xe2, 0x82],
] as const;

/** Text of about `length` bytes that is not valid UTF-8 somewhere (possibly only at its very end). */
export function invalidText(random: RandomSource, length: number): Buffer {
  const before = random.below(length + 1);
  const bad = Buffer.from(random.pick(INVALID_UTF8));
  const atEnd = random.chance(0.3);
  return Buffer.concat([
    randomText(random, before),
    bad,
    atEnd ? Buffer.alloc(0) : randomText(random, length - before),
  ]);
}

/** Where a payload of `length` bytes is cut into `count` fragments: sorted, empty fragments allowed. */
export function splitPoints(random: RandomSource, length: number, count: number): number[] {
  const points: number[] = [];
  for (let index = 1; index < count; index++) points.push(random.below(length + 1));
  points.sort((a, b) => a - b);
  return [0, ...points, length];
}
