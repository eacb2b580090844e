import { Buffer } from 'node:buffer';
import { Opcode } from '@ws/core';
import { formatHex, hex } from '../peer/hex.js';
import type { ConformanceCase } from './conformance-case.js';
import { judgeEcho, judgeFailFast, judgeFailure, text } from './judgement.js';
import { RfcQuote } from './rfc-quote.js';

/** "κόσμε", the Greek word Markus Kuhn's UTF-8 decoder test starts from. */
const KOSME = hex`ce ba e1 bd b9 cf 83 ce bc ce b5`;
const HELLO = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!');
const EDITED = Buffer.from('edited');
/** U+110000 in UTF-8's bit pattern: above the Unicode range, so invalid. */
const BEYOND_UNICODE = hex`f4 90 80 80`;

const INVALID = { codes: [1007], tolerate: [1002] } as const;

function validCase(id: string, description: string, frames: readonly Buffer[]): ConformanceCase {
  const message = Buffer.concat(frames);
  return {
    id,
    section: 6,
    description: `${description}; expect it echoed.`,
    rfc: RfcQuote.validUtf8,
    async run(context) {
      const peer = await context.open();
      await peer.sendFrames(
        frames.map((payload, index) => ({
          opcode: index === 0 ? Opcode.Text : Opcode.Continuation,
          payload,
          fin: index === frames.length - 1,
        })),
      );
      return judgeEcho(context, [text(message)]);
    },
  };
}

function invalidCase(id: string, description: string, frames: readonly Buffer[]): ConformanceCase {
  return {
    id,
    section: 6,
    description: `${description}; expect the connection failed with 1007.`,
    rfc: RfcQuote.invalidUtf8,
    async run(context) {
      const peer = await context.open();
      await peer.sendFrames(
        frames.map((payload, index) => ({
          opcode: index === 0 ? Opcode.Text : Opcode.Continuation,
          payload,
          fin: index === frames.length - 1,
        })),
      );
      return judgeFailure(context, INVALID);
    },
  };
}

/** Splits bytes into pieces of `size` bytes. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const result: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) result.push(bytes.subarray(offset, offset + size));
  return result;
}

/**
 * Fail fast, fragmented: the invalid bytes arrive in the second of three frames, and the third
 * is held back until the implementation has had time to fail.
 */
function failFastFrames(id: string, description: string, parts: readonly [Buffer, Buffer, Buffer]): ConformanceCase {
  return {
    id,
    section: 6,
    description: `${description}; expect the connection failed with 1007 before the last frame is sent.`,
    rfc: RfcQuote.failFastUtf8,
    async run(context) {
      const peer = await context.open();
      await peer.sendFrame({ opcode: Opcode.Text, payload: parts[0], fin: false });
      await new Promise((resolve) => setTimeout(resolve, 10));
      await peer.sendFrame({ opcode: Opcode.Continuation, payload: parts[1], fin: false });
      return judgeFailFast(context, () => peer.sendFrame({ opcode: Opcode.Continuation, payload: parts[2], fin: true }), INVALID);
    },
  };
}

/** Fail fast within one frame: the frame is written in three chops, the last held back. */
function failFastChops(id: string, description: string, validLength: number, invalidLength: number): ConformanceCase {
  const payload = Buffer.concat([KOSME, BEYOND_UNICODE, EDITED]);
  return {
    id,
    section: 6,
    description: `${description}; expect the connection failed with 1007 before the last chop is sent.`,
    rfc: RfcQuote.failFastUtf8,
    async run(context) {
      const peer = await context.open();
      const frame = peer.encodeFrame({ opcode: Opcode.Text, payload });
      const headerLength = frame.length - payload.length;
      const firstEnd = headerLength + validLength;
      const secondEnd = firstEnd + invalidLength;
      await peer.sendRaw(frame.subarray(0, firstEnd));
      await new Promise((resolve) => setTimeout(resolve, 10));
      await peer.sendRaw(frame.subarray(firstEnd, secondEnd));
      return judgeFailFast(context, () => peer.sendRaw(frame.subarray(secondEnd)), INVALID);
    },
  };
}

interface SequenceGroup {
  readonly group: number;
  readonly title: string;
  readonly valid: boolean | readonly boolean[];
  readonly sequences: readonly Buffer[];
}

const codePoint = (value: number) => Buffer.from(String.fromCodePoint(value));

/** Groups 6.5 to 6.23: the test sequences of Markus Kuhn's UTF-8 decoder stress test, each sent as one text message. */
const SEQUENCE_GROUPS: readonly SequenceGroup[] = [
  {
    group: 5,
    title: 'a valid UTF-8 sample',
    valid: true,
    sequences: [KOSME, HELLO, Buffer.from('中文 日本語 한국어'), Buffer.from('😀 🎉 𝄞'), Buffer.from('Ünïcödé ÷ ∞ ≠ 𐍈')],
  },
  {
    group: 6,
    title: 'a prefix of "κόσμε" (the prefixes that end inside a code point are invalid)',
    valid: [false, true, false, false, true, false, true, false, true, false, true],
    sequences: Array.from({ length: KOSME.length }, (_, index) => KOSME.subarray(0, index + 1)),
  },
  {
    group: 7,
    title: 'the first code point of a sequence length',
    valid: true,
    sequences: [hex`00`, hex`c2 80`, hex`e0 a0 80`, hex`f0 90 80 80`],
  },
  {
    group: 8,
    title: 'the first 5- or 6-byte sequence (outside UTF-8)',
    valid: false,
    sequences: [hex`f8 88 80 80 80`, hex`fc 84 80 80 80 80`],
  },
  {
    group: 9,
    title: 'the last code point of a sequence length',
    valid: true,
    sequences: [hex`7f`, hex`df bf`, hex`ef bf bf`, hex`f4 8f bf bf`],
  },
  {
    group: 10,
    title: 'the last 4-, 5- or 6-byte sequence (beyond U+10FFFF)',
    valid: false,
    sequences: [hex`f7 bf bf bf`, hex`fb bf bf bf bf`, hex`fd bf bf bf bf bf`],
  },
  {
    group: 11,
    title: 'a boundary code point (U+D7FF, U+E000, U+FFFD, U+10FFFF are valid; U+110000 is not)',
    valid: [true, true, true, true, false],
    sequences: [hex`ed 9f bf`, hex`ee 80 80`, hex`ef bf bd`, hex`f4 8f bf bf`, BEYOND_UNICODE],
  },
  {
    group: 12,
    title: 'unexpected continuation bytes',
    valid: false,
    sequences: [
      hex`80`,
      hex`bf`,
      hex`80 bf`,
      hex`80 bf 80`,
      hex`80 bf 80 bf`,
      hex`80 bf 80 bf 80`,
      hex`80 bf 80 bf 80 bf`,
      Buffer.from(Array.from({ length: 64 }, (_, index) => 0x80 + index)),
    ],
  },
  {
    group: 13,
    title: 'lonely start bytes, each followed by a space',
    valid: false,
    sequences: [
      [0xc0, 0xdf],
      [0xe0, 0xef],
      [0xf0, 0xf7],
      [0xf8, 0xfb],
      [0xfc, 0xfd],
    ].map(([first, last]) => Buffer.from(Array.from({ length: last! - first! + 1 }, (_, index) => [first! + index, 0x20]).flat())),
  },
  {
    group: 14,
    title: 'a sequence with its last continuation byte missing',
    valid: false,
    sequences: [
      hex`c0`,
      hex`e0 80`,
      hex`f0 80 80`,
      hex`f8 80 80 80`,
      hex`fc 80 80 80 80`,
      hex`df`,
      hex`ef bf`,
      hex`f7 bf bf`,
      hex`fb bf bf bf`,
      hex`fd bf bf bf bf`,
    ],
  },
  {
    group: 15,
    title: 'all the incomplete sequences of 6.14 concatenated',
    valid: false,
    sequences: [hex`c0 e0 80 f0 80 80 f8 80 80 80 fc 80 80 80 80 df ef bf f7 bf bf fb bf bf bf fd bf bf bf bf`],
  },
  {
    group: 16,
    title: 'impossible bytes (0xFE, 0xFF)',
    valid: false,
    sequences: [hex`fe`, hex`ff`, hex`fe fe ff ff`],
  },
  {
    group: 17,
    title: 'an overlong encoding of "/"',
    valid: false,
    sequences: [hex`c0 af`, hex`e0 80 af`, hex`f0 80 80 af`, hex`f8 80 80 80 af`, hex`fc 80 80 80 80 af`],
  },
  {
    group: 18,
    title: 'the largest overlong encoding of a sequence length',
    valid: false,
    sequences: [hex`c1 bf`, hex`e0 9f bf`, hex`f0 8f bf bf`, hex`f8 87 bf bf bf`, hex`fc 83 bf bf bf bf`],
  },
  {
    group: 19,
    title: 'an overlong encoding of U+0000',
    valid: false,
    sequences: [hex`c0 80`, hex`e0 80 80`, hex`f0 80 80 80`, hex`f8 80 80 80 80`, hex`fc 80 80 80 80 80`],
  },
  {
    group: 20,
    title: 'a single UTF-16 surrogate',
    valid: false,
    sequences: [hex`ed a0 80`, hex`ed ad bf`, hex`ed ae 80`, hex`ed af bf`, hex`ed b0 80`, hex`ed be 80`, hex`ed bf bf`],
  },
  {
    group: 21,
    title: 'a pair of UTF-16 surrogates',
    valid: false,
    sequences: [
      hex`ed a0 80 ed b0 80`,
      hex`ed a0 80 ed bf bf`,
      hex`ed ad bf ed b0 80`,
      hex`ed ad bf ed bf bf`,
      hex`ed ae 80 ed b0 80`,
      hex`ed ae 80 ed bf bf`,
      hex`ed af bf ed b0 80`,
      hex`ed af bf ed bf bf`,
    ],
  },
  {
    group: 22,
    title: 'a noncharacter (U+FFFE, U+FFFF and the last two of every plane; valid UTF-8)',
    valid: true,
    sequences: [0, ...Array.from({ length: 16 }, (_, plane) => plane + 1)].flatMap((plane) => [
      codePoint(plane * 0x10000 + 0xfffe),
      codePoint(plane * 0x10000 + 0xffff),
    ]),
  },
  {
    group: 23,
    title: 'a Unicode special (U+FFF9 to U+FFFF; valid UTF-8)',
    valid: true,
    sequences: [0xfff9, 0xfffa, 0xfffb, 0xfffc, 0xfffd, 0xfffe, 0xffff].map(codePoint),
  },
];

function sequenceCases(group: SequenceGroup): ConformanceCase[] {
  return group.sequences.map((sequence, index) => {
    const valid = typeof group.valid === 'boolean' ? group.valid : group.valid[index]!;
    const description = `Send a text message with ${group.title}: ${formatHex(sequence, 24)}`;
    const id = `6.${group.group}.${index + 1}`;
    return valid ? validCase(id, description, [sequence]) : invalidCase(id, description, [sequence]);
  });
}

/** Every test sequence of 6.5-6.23 with whether it is valid UTF-8, for tests that cross-check the catalogue. */
export const UTF8_SEQUENCES: readonly { readonly id: string; readonly bytes: Buffer; readonly valid: boolean }[] =
  SEQUENCE_GROUPS.flatMap((group) =>
    group.sequences.map((bytes, index) => ({
      id: `6.${group.group}.${index + 1}`,
      bytes,
      valid: typeof group.valid === 'boolean' ? group.valid : group.valid[index]!,
    })),
  );

const INVALID_SAMPLE = Buffer.concat([KOSME, hex`ed a0 80`, EDITED]);

/** Section 6: UTF-8 in text messages, valid and invalid, whole and fragmented. */
export const section6: readonly ConformanceCase[] = [
  validCase('6.1.1', 'Send a text message of length 0', [Buffer.alloc(0)]),
  validCase('6.1.2', 'Send a text message in 3 empty fragments', [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)]),
  validCase('6.1.3', 'Send a text message in 3 fragments, the first and last empty', [
    Buffer.alloc(0),
    Buffer.from('middle frame payload'),
    Buffer.alloc(0),
  ]),
  validCase('6.2.1', 'Send a valid UTF-8 text message in 3 fragments split at code point boundaries', [
    HELLO.subarray(0, 7),
    HELLO.subarray(7, 15),
    HELLO.subarray(15),
  ]),
  validCase('6.2.2', 'Send a valid UTF-8 text message in 2 fragments split inside a code point', [
    HELLO.subarray(0, 8),
    HELLO.subarray(8),
  ]),
  validCase('6.2.3', 'Send a valid UTF-8 text message in fragments of 1 byte', pieces(HELLO, 1)),
  validCase('6.2.4', 'Send "κόσμε" in fragments of 1 byte, so that fragments end inside code points', pieces(KOSME, 1)),
  invalidCase('6.3.1', `Send an invalid UTF-8 text message (a surrogate inside): ${formatHex(INVALID_SAMPLE)}`, [INVALID_SAMPLE]),
  invalidCase('6.3.2', 'Send the invalid UTF-8 text message of 6.3.1 in fragments of 1 byte', pieces(INVALID_SAMPLE, 1)),
  failFastFrames('6.4.1', 'Send an invalid text message in 3 frames: "κόσμε", then U+110000 (f4 90 80 80), then "edited"', [
    KOSME,
    BEYOND_UNICODE,
    EDITED,
  ]),
  failFastFrames(
    '6.4.2',
    'Send an invalid text message in 3 frames: "κόσμε" and f4, then the byte that makes it invalid (90), then the rest',
    [Buffer.concat([KOSME, hex`f4`]), hex`90`, Buffer.concat([hex`80 80`, EDITED])],
  ),
  failFastChops(
    '6.4.3',
    'Send an invalid text message as one frame written in 3 chops: up to "κόσμε", then f4 90 80 80, then the rest',
    KOSME.length,
    BEYOND_UNICODE.length,
  ),
  failFastChops(
    '6.4.4',
    'Send an invalid text message as one frame written in 3 chops: up to "κόσμε" and f4, then the invalid byte 90, then the rest',
    KOSME.length + 1,
    1,
  ),
  ...SEQUENCE_GROUPS.flatMap(sequenceCases),
];
