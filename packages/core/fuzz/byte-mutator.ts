import { Buffer } from 'node:buffer';
import { encodePeerFrame } from './encode-peer-frame.js';
import type { RandomSource } from './random-source.js';
import { randomBytes } from './random-payload.js';

/** Byte values at the edges of the header fields: FIN/opcode combinations, 125/126/127 lengths, MASK. */
const INTERESTING_BYTES = [0x00, 0x01, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a, 0xc1, 0xfe, 0xff] as const;
/** Mutated streams stay small enough to run a million of them. */
const MAX_MUTATED_LENGTH = 256 * 1024;

interface Target {
  bytes: Buffer;
  readonly frameStarts: readonly number[];
  readonly masked: boolean;
}

type Mutation = (random: RandomSource, target: Target) => void;

/** A position, half the time inside a frame header, where most decisions are taken. */
function position(random: RandomSource, target: Target, inclusiveEnd = false): number {
  const length = target.bytes.length + (inclusiveEnd ? 1 : 0);
  if (length === 0) return 0;
  if (target.frameStarts.length > 0 && random.chance(0.5)) {
    return Math.min(length - 1, random.pick(target.frameStarts) + random.below(14));
  }
  return random.below(length);
}

function insertAt(target: Target, at: number, bytes: Buffer): void {
  target.bytes = Buffer.concat([target.bytes.subarray(0, at), bytes, target.bytes.subarray(at)]);
}

const MUTATIONS: readonly (readonly [number, Mutation])[] = [
  // A flipped bit: FIN, RSV, an opcode bit, MASK, a length bit, a payload bit.
  [
    25,
    (random, target) => {
      if (target.bytes.length === 0) return;
      target.bytes[position(random, target)]! ^= 1 << random.below(8);
    },
  ],
  [
    10,
    (random, target) => {
      if (target.bytes.length === 0) return;
      target.bytes[position(random, target)] = random.chance(0.6) ? random.pick(INTERESTING_BYTES) : random.below(256);
    },
  ],
  // Inserted bytes shift every later frame boundary.
  [10, (random, target) => insertAt(target, position(random, target, true), randomBytes(random, random.between(1, 8)))],
  [
    10,
    (random, target) => {
      const at = position(random, target);
      const length = random.between(1, 16);
      target.bytes = Buffer.concat([target.bytes.subarray(0, at), target.bytes.subarray(at + length)]);
    },
  ],
  // Truncation: the stream ends inside a header, a payload, a UTF-8 sequence, a deflate block.
  [
    12,
    (random, target) => {
      target.bytes = target.bytes.subarray(0, position(random, target, true));
    },
  ],
  // A duplicated range: repeated frames, half-frames, a header twice.
  [
    10,
    (random, target) => {
      const from = position(random, target);
      const length = Math.min(random.between(1, 512), target.bytes.length - from);
      if (length <= 0) return;
      insertAt(target, position(random, target, true), Buffer.from(target.bytes.subarray(from, from + length)));
    },
  ],
  // Whole frames dropped or swapped: fragments out of order, a continuation with no start.
  [
    8,
    (random, target) => {
      const starts = target.frameStarts;
      if (starts.length < 2) return;
      const index = random.below(starts.length - 1);
      const [a, b] = [starts[index]!, starts[index + 1]!];
      target.bytes = random.chance(0.5)
        ? Buffer.concat([target.bytes.subarray(0, a), target.bytes.subarray(b)])
        : Buffer.concat([
            target.bytes.subarray(0, a),
            target.bytes.subarray(b, starts[index + 2] ?? target.bytes.length),
            target.bytes.subarray(a, b),
            target.bytes.subarray(starts[index + 2] ?? target.bytes.length),
          ]);
    },
  ],
  // A random but well-formed frame at a frame boundary: any opcode, any RSV bits, masked or not.
  [
    8,
    (random, target) => {
      const frame = encodePeerFrame({
        fin: random.chance(0.7),
        rsv: random.chance(0.8) ? 0 : random.pick([0x40, 0x20, 0x10]),
        opcode: random.below(16),
        payload: randomBytes(random, random.chance(0.8) ? random.below(10) : random.below(300)),
        maskKey: target.masked !== random.chance(0.05) ? randomBytes(random, 4) : undefined,
      });
      const at = target.frameStarts.length > 0 ? Math.min(random.pick(target.frameStarts), target.bytes.length) : 0;
      insertAt(target, at, frame);
    },
  ],
  // A 7-bit length rewritten to announce a 16- or 64-bit length, or another small one.
  [
    7,
    (random, target) => {
      if (target.frameStarts.length === 0) return;
      const at = random.pick(target.frameStarts) + 1;
      if (at >= target.bytes.length) return;
      target.bytes[at] = (target.bytes[at]! & 0x80) | random.pick([0, 1, 125, 126, 127, random.below(128)]);
    },
  ],
];

/**
 * Damages a stream the ways a broken or hostile peer, or a broken proxy, would: bit flips,
 * byte insertions and deletions, truncation, duplicated ranges, dropped, swapped and foreign
 * frames, rewritten lengths. Frame boundaries (`frameStarts` of the original) guide half of
 * the positions to headers. Returns a new buffer.
 */
export function mutate(random: RandomSource, bytes: Buffer, frameStarts: readonly number[], masked: boolean): Buffer {
  const target: Target = { bytes: Buffer.from(bytes), frameStarts, masked };
  const count = random.weighted<() => number>([
    [50, () => 1],
    [30, () => 2],
    [15, () => random.between(3, 5)],
    [5, () => random.between(6, 20)],
  ])();
  for (let index = 0; index < count && target.bytes.length <= MAX_MUTATED_LENGTH; index++) {
    random.weighted(MUTATIONS)(random, target);
  }
  return target.bytes;
}

/**
 * A stream of pure noise, or of random frame headers with random payloads: noise is refused at
 * the first header, so half the streams are noise shaped like frames to get further.
 */
export function randomStream(random: RandomSource, masked: boolean): Buffer {
  if (random.chance(0.5)) {
    return randomBytes(
      random,
      random.weighted<() => number>([
        [60, () => random.below(32)],
        [30, () => random.below(512)],
        [10, () => random.below(8192)],
      ])(),
    );
  }
  const frames: Buffer[] = [];
  const count = random.between(1, 12);
  for (let index = 0; index < count; index++) {
    frames.push(
      encodePeerFrame({
        fin: random.chance(0.6),
        rsv: random.chance(0.85) ? 0 : random.below(8) << 4,
        opcode: random.chance(0.8) ? random.pick([0x0, 0x1, 0x2, 0x8, 0x9, 0xa]) : random.below(16),
        payload: randomBytes(random, random.chance(0.9) ? random.below(40) : random.below(2000)),
        maskKey: masked !== random.chance(0.05) ? randomBytes(random, 4) : undefined,
      }),
    );
  }
  return Buffer.concat(frames);
}
