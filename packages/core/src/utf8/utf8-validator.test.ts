import { Buffer, isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidUtf8, Utf8Validator } from './utf8-validator.js';

/**
 * One UTF-8 test sequence. `failAt` is the index of the first byte after which the bytes can no
 * longer be the beginning of valid UTF-8 (where a validator must fail fast); it is absent for
 * valid sequences and for ones that are only cut short (those fail at the end of the message).
 */
interface Vector {
  readonly name: string;
  readonly bytes: Buffer;
  readonly valid: boolean;
  readonly failAt?: number;
}

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

const valid = (name: string, bytesHex: string): Vector => ({ name, bytes: hex(bytesHex), valid: true });
const invalid = (name: string, bytesHex: string, failAt: number): Vector => ({ name, bytes: hex(bytesHex), valid: false, failAt });
const truncated = (name: string, bytesHex: string): Vector => ({ name, bytes: hex(bytesHex), valid: false });

const KOSME = 'ce ba e1 bd b9 cf 83 ce bc ce b5';

/** The sequences of Autobahn|Testsuite section 6 (cases 6.2-6.4, then 6.5-6.23 from Markus Kuhn's UTF-8-test.txt). */
function autobahnSection6(): Vector[] {
  const vectors: Vector[] = [
    valid('6.2 Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!').toString('hex')),
    valid('6.2.4 κόσμε', KOSME),
    // "invalid exactly on byte 12 (\xa0)": ED A0 80 would encode the surrogate U+D800.
    invalid('6.3 κόσμε + ED A0 80 + edited', `${KOSME} ed a0 80 65 64 69 74 65 64`, 12),
    // 6.4: F4 90 80 80 would be U+110000; fail fast on byte 12 (0x90).
    invalid('6.4 κόσμε + F4 90 80 80 + edited', `${KOSME} f4 90 80 80 65 64 69 74 65 64`, 12),

    valid('6.5.1 hello$world', '68656c6c6f 24 776f726c64'),
    valid('6.5.2 hello¢world', '68656c6c6f c2a2 776f726c64'),
    valid('6.5.3 hello€world', '68656c6c6f e282ac 776f726c64'),
    valid('6.5.4 hello𤭢world', '68656c6c6f f0a4ada2 776f726c64'),
    valid('6.5.5 κόσμε', KOSME),
  ];

  // 6.6: every prefix of κόσμε; those that cut a code point are not valid messages, but never fail early.
  const kosme = hex(KOSME);
  const boundaries = new Set([2, 5, 7, 9, 11]);
  for (let length = 1; length <= kosme.length; length++) {
    const prefix = kosme.subarray(0, length).toString('hex');
    vectors.push(boundaries.has(length) ? valid(`6.6.${length} κόσμε[:${length}]`, prefix) : truncated(`6.6.${length} κόσμε[:${length}]`, prefix));
  }

  vectors.push(
    valid('6.7.1 U+0000', '00'),
    valid('6.7.2 U+0080', 'c2 80'),
    valid('6.7.3 U+0800', 'e0 a0 80'),
    valid('6.7.4 U+10000', 'f0 90 80 80'),
    invalid('6.8.1 5-byte sequence', 'f8 88 80 80 80', 0),
    invalid('6.8.2 6-byte sequence', 'fc 84 80 80 80 80', 0),
    valid('6.9.1 U+007F', '7f'),
    valid('6.9.2 U+07FF', 'df bf'),
    valid('6.9.3 U+FFFF (a non-character, valid UTF-8)', 'ef bf bf'),
    valid('6.9.4 U+10FFFF', 'f4 8f bf bf'),
    invalid('6.10.1 F7 BF BF BF (U+1FFFFF)', 'f7 bf bf bf', 0),
    invalid('6.10.2 5-byte maximum', 'fb bf bf bf bf', 0),
    invalid('6.10.3 6-byte maximum', 'fd bf bf bf bf bf', 0),
    valid('6.11.1 U+D7FF', 'ed 9f bf'),
    valid('6.11.2 U+E000', 'ee 80 80'),
    valid('6.11.3 U+FFFD', 'ef bf bd'),
    valid('6.11.4 U+10FFFF', 'f4 8f bf bf'),
    invalid('6.11.5 U+110000', 'f4 90 80 80', 1),
    invalid('6.12.1 continuation 80', '80', 0),
    invalid('6.12.2 continuation BF', 'bf', 0),
    invalid('6.12.3', '80 bf', 0),
    invalid('6.12.4', '80 bf 80', 0),
    invalid('6.12.5', '80 bf 80 bf', 0),
    invalid('6.12.6', '80 bf 80 bf 80', 0),
    invalid('6.12.7', '80 bf 80 bf 80 bf', 0),
    invalid('6.12.8 80..BE', byteRange(0x80, 0xbe).map(toHex).join(''), 0),
  );

  // 6.13: each start byte followed by a space. C0 and F8..FD are never valid; E0 and F0 fail on the space.
  const lonely: [number, number, number][] = [
    [0xc0, 0xde, 0],
    [0xe0, 0xee, 1],
    [0xf0, 0xf6, 1],
    [0xf8, 0xfa, 0],
    [0xfc, 0xfc, 0],
  ];
  lonely.forEach(([first, last, failAt], index) => {
    const bytes = byteRange(first, last).map((byte) => `${toHex(byte)}20`).join('');
    vectors.push(invalid(`6.13.${index + 1} lonely start bytes ${toHex(first)}..${toHex(last)}`, bytes, failAt));
  });

  const missingLast: Vector[] = [
    invalid('6.14.1 C0 (never valid)', 'c0', 0),
    invalid('6.14.2 E0 80 (overlong)', 'e0 80', 1),
    invalid('6.14.3 F0 80 80 (overlong)', 'f0 80 80', 1),
    invalid('6.14.4 F8 80 80 80', 'f8 80 80 80', 0),
    invalid('6.14.5 FC 80 80 80 80', 'fc 80 80 80 80', 0),
    truncated('6.14.6 DF', 'df'),
    truncated('6.14.7 EF BF', 'ef bf'),
    invalid('6.14.8 F7 BF BF', 'f7 bf bf', 0),
    invalid('6.14.9 FB BF BF BF', 'fb bf bf bf', 0),
    invalid('6.14.10 FD BF BF BF BF', 'fd bf bf bf bf', 0),
  ];
  vectors.push(...missingLast);
  vectors.push(invalid('6.15.1 concatenation of incomplete sequences', missingLast.map((vector) => vector.bytes.toString('hex')).join(''), 0));

  vectors.push(
    invalid('6.16.1 FE', 'fe', 0),
    invalid('6.16.2 FF', 'ff', 0),
    invalid('6.16.3 FE FE FF FF', 'fe fe ff ff', 0),
    invalid('6.17.1 overlong "/" C0 AF', 'c0 af', 0),
    invalid('6.17.2 overlong "/" E0 80 AF', 'e0 80 af', 1),
    invalid('6.17.3 overlong "/" F0 80 80 AF', 'f0 80 80 af', 1),
    invalid('6.17.4 overlong "/" 5 bytes', 'f8 80 80 80 af', 0),
    invalid('6.17.5 overlong "/" 6 bytes', 'fc 80 80 80 80 af', 0),
    invalid('6.18.1 maximum overlong C1 BF', 'c1 bf', 0),
    invalid('6.18.2 maximum overlong E0 9F BF', 'e0 9f bf', 1),
    invalid('6.18.3 maximum overlong F0 8F BF BF', 'f0 8f bf bf', 1),
    invalid('6.18.4 maximum overlong 5 bytes', 'f8 87 bf bf bf', 0),
    invalid('6.18.5 maximum overlong 6 bytes', 'fc 83 bf bf bf bf', 0),
    invalid('6.19.1 overlong NUL C0 80', 'c0 80', 0),
    invalid('6.19.2 overlong NUL E0 80 80', 'e0 80 80', 1),
    invalid('6.19.3 overlong NUL F0 80 80 80', 'f0 80 80 80', 1),
    invalid('6.19.4 overlong NUL 5 bytes', 'f8 80 80 80 80', 0),
    invalid('6.19.5 overlong NUL 6 bytes', 'fc 80 80 80 80 80', 0),
  );

  const surrogates = ['ed a0 80', 'ed ad bf', 'ed ae 80', 'ed af bf', 'ed b0 80', 'ed be 80', 'ed bf bf'];
  surrogates.forEach((bytes, index) => vectors.push(invalid(`6.20.${index + 1} lone surrogate ${bytes}`, bytes, 1)));
  const pairs = [
    ['ed a0 80', 'ed b0 80'],
    ['ed a0 80', 'ed bf bf'],
    ['ed ad bf', 'ed b0 80'],
    ['ed ad bf', 'ed bf bf'],
    ['ed ae 80', 'ed b0 80'],
    ['ed ae 80', 'ed bf bf'],
    ['ed af bf', 'ed b0 80'],
    ['ed af bf', 'ed bf bf'],
  ];
  pairs.forEach(([high, low], index) => vectors.push(invalid(`6.21.${index + 1} surrogate pair ${high} ${low}`, `${high} ${low}`, 1)));

  // 6.22: non-characters are valid UTF-8 (RFC 3629 does not exclude them): U+FFFE, U+FFFF, U+nFFFE, U+nFFFF.
  const nonCharacters = ['ef bf be', 'ef bf bf'];
  for (const lead of ['f0', 'f1', 'f2', 'f3', 'f4']) {
    for (const second of ['8f', '9f', 'af', 'bf']) {
      if (lead === 'f4' && second !== '8f') continue; // above U+10FFFF
      if (lead === 'f0' && second === '8f') continue; // overlong
      for (const last of ['be', 'bf']) nonCharacters.push(`${lead} ${second} bf ${last}`);
    }
  }
  nonCharacters.forEach((bytes, index) => vectors.push(valid(`6.22.${index + 1} non-character ${bytes}`, bytes)));

  ['ef bf b9', 'ef bf ba', 'ef bf bb', 'ef bf bc', 'ef bf bd', 'ef bf be', 'ef bf bf'].forEach((bytes, index) =>
    vectors.push(valid(`6.23.${index + 1} special ${bytes}`, bytes)),
  );
  return vectors;
}

function byteRange(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

function toHex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/**
 * Reference for fail-fast, independent of the DFA: a prefix can still become valid UTF-8 if
 * appending nothing or 1-3 copies of 0x80, 0x90 or 0xA0 makes it valid for `isUtf8` (every
 * lead byte's allowed second byte range contains one of those). Being such a prefix only ever
 * stops being true as bytes are added, so the first failing index is found by binary search.
 */
function referenceFailAt(bytes: Uint8Array): number | undefined {
  const couldBecomeValid = (length: number): boolean => {
    const prefix = bytes.subarray(0, length);
    if (isUtf8(prefix)) return true;
    for (const filler of [0x80, 0x90, 0xa0]) {
      for (let count = 1; count <= 3; count++) {
        if (isUtf8(Buffer.concat([prefix, Buffer.alloc(count, filler)]))) return true;
      }
    }
    return false;
  };
  if (couldBecomeValid(bytes.length)) return undefined;
  let low = 0; // couldBecomeValid(low) is true
  let high = bytes.length; // couldBecomeValid(high) is false
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (couldBecomeValid(middle)) low = middle;
    else high = middle;
  }
  return high - 1;
}

/** Feeds the chunks in order; returns the index of the chunk on which `update` first returned false, or -1. */
function firstFailingChunk(validator: Utf8Validator, chunks: readonly Uint8Array[]): number {
  for (let index = 0; index < chunks.length; index++) {
    if (!validator.update(chunks[index]!)) return index;
  }
  return -1;
}

/** Splits `bytes` at the given positions (each in 0..length, any order, repeats allowed). */
function splitAt(bytes: Uint8Array, positions: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(positions)].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

const VECTORS = autobahnSection6();

describe('Utf8Validator on the Autobahn section 6 sequences', () => {
  it('has the expected table: 6.3/6.4 fail fast on byte 12, U+FFFE/U+FFFF/U+10FFFF valid, U+110000 invalid', () => {
    const byName = (prefix: string) => VECTORS.find((vector) => vector.name.startsWith(prefix))!;
    expect(byName('6.3').failAt).toBe(12);
    expect(byName('6.4').failAt).toBe(12);
    expect(byName('6.22.1').bytes).toEqual(hex('ef bf be'));
    expect(byName('6.22.1').valid).toBe(true);
    expect(byName('6.9.3').valid).toBe(true);
    expect(byName('6.9.4').valid).toBe(true);
    expect(byName('6.11.5').valid).toBe(false);
    expect(VECTORS.filter((vector) => vector.name.startsWith('6.22.'))).toHaveLength(2 + 32);
  });

  it.each(VECTORS)('$name: the hand-written expectation agrees with isUtf8', (vector) => {
    expect(isUtf8(vector.bytes)).toBe(vector.valid);
    expect(isValidUtf8(vector.bytes)).toBe(vector.valid);
    expect(referenceFailAt(vector.bytes)).toBe(vector.failAt);
  });

  it.each(VECTORS)('$name: whole', (vector) => {
    const validator = new Utf8Validator();
    expect(validator.update(vector.bytes)).toBe(vector.failAt === undefined);
    expect(validator.finish()).toBe(vector.valid);
  });

  it.each(VECTORS)('$name: byte by byte, false exactly at the first invalid byte', (vector) => {
    const validator = new Utf8Validator();
    const bytes = Array.from(vector.bytes, (byte) => Uint8Array.of(byte));
    expect(firstFailingChunk(validator, bytes)).toBe(vector.failAt ?? -1);
    expect(validator.finish()).toBe(vector.valid);
  });

  it.each(VECTORS)('$name: split in two at every position, as separate chunks and as start/end ranges', (vector) => {
    const { bytes } = vector;
    for (let cut = 0; cut <= bytes.length; cut++) {
      const expectedChunk = vector.failAt === undefined ? -1 : vector.failAt < cut ? 0 : 1;

      const separate = new Utf8Validator();
      expect(firstFailingChunk(separate, [Uint8Array.from(bytes.subarray(0, cut)), Uint8Array.from(bytes.subarray(cut))])).toBe(expectedChunk);
      expect(separate.finish()).toBe(vector.valid);

      const ranges = new Utf8Validator();
      const first = ranges.update(bytes, 0, cut);
      const second = first && ranges.update(bytes, cut, bytes.length);
      expect(first ? (second ? -1 : 1) : 0).toBe(expectedChunk);
      expect(ranges.finish()).toBe(vector.valid);
    }
  });

  it.each(VECTORS)('$name: after 1 KiB of valid text (the native path), whole and split near the sequence', (vector) => {
    // 1 KiB is above the size from which `update` hands a chunk's complete part to `isUtf8`.
    const lead = Buffer.from('κόσμε, hello! '.repeat(64)).subarray(0, 1024);
    expect(isUtf8(lead)).toBe(true);
    const bytes = Buffer.concat([lead, vector.bytes]);
    const failAt = vector.failAt === undefined ? undefined : lead.length + vector.failAt;

    const whole = new Utf8Validator();
    expect(whole.update(bytes)).toBe(failAt === undefined);
    expect(whole.finish()).toBe(vector.valid);

    for (let cut = lead.length - 4; cut <= bytes.length; cut++) {
      const validator = new Utf8Validator();
      const expectedChunk = failAt === undefined ? -1 : failAt < cut ? 0 : 1;
      expect(firstFailingChunk(validator, [bytes.subarray(0, cut), bytes.subarray(cut)])).toBe(expectedChunk);
      expect(validator.finish()).toBe(vector.valid);
    }

    const bytewiseTail = new Utf8Validator();
    const tail = Array.from(vector.bytes, (byte) => Uint8Array.of(byte));
    expect(firstFailingChunk(bytewiseTail, [lead, ...tail])).toBe(vector.failAt === undefined ? -1 : vector.failAt + 1);
  });
});

describe('Utf8Validator state', () => {
  it('stays failed after the first invalid byte until reset', () => {
    const validator = new Utf8Validator();
    expect(validator.update(hex('c0'))).toBe(false);
    expect(validator.update(hex('41'))).toBe(false);
    expect(validator.update(new Uint8Array(0))).toBe(false);
    expect(validator.finish()).toBe(false);
    validator.reset();
    expect(validator.finish()).toBe(true);
    expect(validator.update(hex('41'))).toBe(true);
    expect(validator.finish()).toBe(true);
  });

  it('reset forgets a code point left open', () => {
    const validator = new Utf8Validator();
    expect(validator.update(hex('e2 82'))).toBe(true);
    expect(validator.finish()).toBe(false);
    validator.reset();
    // Without the reset, 0x41 would end the open sequence and fail.
    expect(validator.update(hex('41'))).toBe(true);
    expect(validator.finish()).toBe(true);
  });

  it('finish does not reset', () => {
    const validator = new Utf8Validator();
    expect(validator.update(hex('f0 9f'))).toBe(true);
    expect(validator.finish()).toBe(false);
    expect(validator.update(hex('98 80'))).toBe(true);
    expect(validator.finish()).toBe(true);
  });

  it('an empty update changes nothing', () => {
    const validator = new Utf8Validator();
    expect(validator.update(new Uint8Array(0))).toBe(true);
    expect(validator.finish()).toBe(true);
    expect(validator.update(hex('ce'))).toBe(true);
    expect(validator.update(hex('ce ba'), 1, 1)).toBe(true);
    expect(validator.finish()).toBe(false);
  });

  it('reads only bytes[start..end) of an unaligned view into a larger buffer', () => {
    const backing = new Uint8Array(64).fill(0xff);
    const view = new Uint8Array(backing.buffer, 3, 40);
    view.set(Buffer.from('héllo wörld, κόσμε'), 5);
    const length = Buffer.byteLength('héllo wörld, κόσμε');
    const validator = new Utf8Validator();
    expect(validator.update(view, 5, 5 + length)).toBe(true);
    expect(validator.finish()).toBe(true);
    expect(validator.update(view, 5 + length, 6 + length)).toBe(false);
  });

  it('fails on a large chunk whose only invalid byte is in the last code point', () => {
    const text = Buffer.from('a'.repeat(5000) + '€');
    for (const bad of [0x20, 0xc0, 0xff]) {
      const bytes = Buffer.from(text);
      bytes[bytes.length - 1] = bad;
      const validator = new Utf8Validator();
      expect(validator.update(bytes)).toBe(false);
    }
  });

  it('keeps the open code point at the end of a large chunk for the next one', () => {
    const text = Buffer.from('x'.repeat(4096) + '😀'.repeat(3));
    for (let cut = text.length - 12; cut <= text.length; cut++) {
      const validator = new Utf8Validator();
      expect(validator.update(text.subarray(0, cut))).toBe(true);
      expect(validator.finish()).toBe(cut === text.length || (cut - 4096) % 4 === 0);
      expect(validator.update(text.subarray(cut))).toBe(true);
      expect(validator.finish()).toBe(true);
    }
  });
});

/** Byte arrays that are valid UTF-8, nearly valid (a few bytes changed) or random; up to 3 KiB so the native path runs too. */
const utf8ish = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 800 }).map((text) => new Uint8Array(Buffer.from(text))),
  fc
    .tuple(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 800 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0x80, max: 0xff })), { minLength: 1, maxLength: 3 }),
    )
    .map(([text, edits]) => {
      const bytes = new Uint8Array(Buffer.from(text));
      for (const [position, byte] of edits) bytes[position % bytes.length] = byte;
      return bytes;
    }),
  fc.constantFrom('a', 'é', '€', '😀').chain((unit) =>
    fc.integer({ min: 0, max: 3072 }).map((count) => new Uint8Array(Buffer.from(unit.repeat(count)))),
  ),
);

describe('Utf8Validator against isUtf8 (property)', () => {
  it('the incremental result over any split equals isUtf8 on the whole', () => {
    fc.assert(
      fc.property(utf8ish, fc.array(fc.nat(), { maxLength: 8 }), (bytes, rawCuts) => {
        const chunks = splitAt(bytes, rawCuts.map((cut) => cut % (bytes.length + 1)));
        const validator = new Utf8Validator();
        const failing = firstFailingChunk(validator, chunks);
        expect(failing === -1 && validator.finish()).toBe(isUtf8(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('update returns false on the chunk that holds the first invalid byte', () => {
    fc.assert(
      fc.property(utf8ish, fc.array(fc.nat(), { maxLength: 8 }), (bytes, rawCuts) => {
        const cuts = [...new Set(rawCuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const failAt = referenceFailAt(bytes);
        const expectedChunk = failAt === undefined ? -1 : cuts.filter((cut) => cut <= failAt).length;
        expect(firstFailingChunk(new Utf8Validator(), splitAt(bytes, cuts))).toBe(expectedChunk);
      }),
      { numRuns: 300 },
    );
  });
});
