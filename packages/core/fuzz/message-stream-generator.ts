import { Buffer } from 'node:buffer';
import { deflateRawSync } from 'node:zlib';
import { DEFAULT_MAX_FRAME_SIZE, FRAGMENT_OVERHEAD, type PerMessageDeflate } from '@ws/core';
import { LengthForm } from './encode-peer-frame.js';
import type { FuzzConfig } from './fuzz-config.js';
import { appendViolation } from './protocol-violations.js';
import type { RandomSource } from './random-source.js';
import { randomBinary, randomBytes, randomText, splitPoints } from './random-payload.js';
import { type GeneratedStream, StreamBuilder } from './stream-builder.js';

/** Close codes a peer may send (RFC 6455 §7.4.1, §7.4.2 and the IANA registry it created). */
const VALID_CLOSE_CODES = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
] as const;
const EDGE_LENGTHS = [125, 126, 127, 128, 255, 256, 1023, 1024, 1025, 4096, 16_384] as const;

interface GeneratorContext {
  readonly random: RandomSource;
  readonly config: FuzzConfig;
  readonly builder: StreamBuilder;
  /** The peer's extension when permessage-deflate was negotiated: it compresses what we send. */
  readonly peer: PerMessageDeflate | undefined;
}

/** Lengths cluster at the edges where framing and limits change behaviour. */
function messageLength(random: RandomSource, config: FuzzConfig): number {
  const limit = config.maxMessageSize;
  // Near a 64 KiB limit a message costs real time to build and to check: rarer there.
  const nearLimit = limit >= 65_536 ? 2 : 8;
  const frameLimit = config.maxFrameSize;
  const pickLength = random.weighted<() => number>([
    [40, () => random.between(0, 16)],
    [25, () => random.between(17, 200)],
    [10, () => random.pick(EDGE_LENGTHS)],
    [8, () => random.between(200, 4000)],
    [nearLimit, () => Math.max(0, limit + random.between(-2, 1))],
    [frameLimit === undefined ? 0 : 4, () => (frameLimit ?? 0) + random.between(-1, 1)],
    [1, () => random.between(4000, limit + 100)],
  ]);
  return pickLength();
}

function lengthForm(random: RandomSource): LengthForm | undefined {
  // The longer length forms are accepted (docs/adr/0005): a correct stream may use them.
  return random.chance(0.06) ? random.pick([LengthForm.Extended16, LengthForm.Extended64]) : undefined;
}

function split(payload: Buffer, points: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let index = 1; index < points.length; index++) parts.push(payload.subarray(points[index - 1], points[index]));
  return parts;
}

/** The payloads of a message's frames, compressed the ways RFC 7692 §7.2.1 and §7.2.3 allow. */
function framePayloads(context: GeneratorContext, data: Buffer, fragments: number, compress: boolean): Buffer[] {
  const { random, peer } = context;
  if (!compress || peer === undefined) return split(data, splitPoints(random, data.length, fragments));
  // §7.2.3.4: a message may end with a block with BFINAL set; only where the peer starts every
  // message with an empty window, since the inflater cannot carry its window past that block.
  if (peer.parameters.compressNoContextTakeover && random.chance(0.15)) {
    const windowBits = Math.max(9, peer.parameters.compressMaxWindowBits);
    const compressed = deflateRawSync(data, { windowBits, level: random.pick([0, 1, 9]) });
    return split(compressed, splitPoints(random, compressed.length, fragments));
  }
  // §7.2.1 per fragment: each fragment's data flushed on its own.
  if (fragments > 1 && random.chance(0.4)) {
    const parts = split(data, splitPoints(random, data.length, fragments));
    return parts.map((part, index) => Buffer.from(peer.encode(part, index === parts.length - 1)));
  }
  // §7.2.3.1: the compressed message cut anywhere into fragments.
  const compressed = Buffer.from(peer.encode(data, true));
  return split(compressed, splitPoints(random, compressed.length, fragments));
}

function controlFrame(context: GeneratorContext, opcode: 0x9 | 0xa): void {
  const { random, builder } = context;
  const length = random.weighted<() => number>([
    [60, () => random.between(0, 8)],
    [25, () => random.between(9, 124)],
    [15, () => 125],
  ])();
  const data = randomBytes(random, length);
  builder.frame(true, 0, opcode, data, { lengthForm: lengthForm(random) });
  builder.expect({ type: opcode === 0x9 ? 'ping' : 'pong', data });
}

function closeFrame(context: GeneratorContext): void {
  const { random, builder } = context;
  if (random.chance(0.15)) {
    // RFC 6455 §7.1.5: no status code is reported as 1005.
    builder.frame(true, 0, 0x8, Buffer.alloc(0));
    builder.expect({ type: 'close', code: 1005, reason: '' });
  } else {
    const code = random.pick(VALID_CLOSE_CODES);
    const reason = randomText(
      random,
      random.weighted<() => number>([
        [6, () => 0],
        [3, () => random.between(1, 20)],
        [1, () => 123],
      ])(),
    );
    const payload = Buffer.concat([Buffer.from([code >>> 8, code & 0xff]), reason]);
    builder.frame(true, 0, 0x8, payload);
    builder.expect({ type: 'close', code, reason: reason.toString('utf8') });
  }
  builder.end();
}

/**
 * A data message, maybe fragmented, maybe compressed, with control frames between its
 * fragments (RFC 6455 §5.4: "Control frames (see Section 5.5) MAY be injected in the middle of
 * a fragmented message"). Where the limits fail it, the expectation says 1009 at the exact
 * frame that goes over.
 */
function dataMessage(context: GeneratorContext): void {
  const { random, config, builder, peer } = context;
  const isBinary = random.chance(0.4);
  const data = isBinary
    ? randomBinary(random, messageLength(random, config))
    : randomText(random, messageLength(random, config));
  const compress = peer !== undefined && peer.shouldEncode(Number.MAX_SAFE_INTEGER) && random.chance(0.6);
  const fragments = random.weighted<() => number>([
    [60, () => 1],
    [20, () => 2],
    [14, () => random.between(3, 6)],
    [6, () => random.between(7, 24)],
  ])();
  const payloads = framePayloads(context, data, fragments, compress);
  // A compressed message past the limit fails somewhere inside zlib's output: no control frame
  // goes inside it, so that what precedes the failure is known.
  const failsWhileInflating = compress && data.length > config.maxMessageSize;
  const maxFrameSize = config.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  const whole = payloads.length === 1;
  let charge = 0;
  for (let index = 0; index < payloads.length; index++) {
    if (index > 0 && !failsWhileInflating && random.chance(0.15)) {
      if (random.chance(0.1)) {
        // A close frame in the middle: the message is abandoned.
        closeFrame(context);
      } else {
        controlFrame(context, random.chance(0.7) ? 0x9 : 0xa);
      }
    }
    const payload = payloads[index]!;
    const first = index === 0;
    const fin = index === payloads.length - 1;
    builder.frame(fin, first && compress ? 0x40 : 0, first ? (isBinary ? 0x2 : 0x1) : 0x0, payload, {
      lengthForm: lengthForm(random),
    });
    // The protocol's accounting: every frame of a fragmented message costs its length plus
    // FRAGMENT_OVERHEAD, checked from the header, as is maxFrameSize.
    charge += payload.length + (whole ? 0 : FRAGMENT_OVERHEAD);
    if (payload.length > maxFrameSize || charge > config.maxMessageSize) builder.fail(1009);
  }
  if (failsWhileInflating) builder.fail(1009);
  builder.expect({ type: 'message', data, isBinary });
}

/**
 * A stream a correct peer could send, with what the engine must report for it: messages
 * (text, binary, fragmented, compressed), pings and pongs, perhaps a close frame followed by
 * junk the engine must ignore, and in about a third of the streams one violation with the
 * close code it calls for.
 */
export function generateStream(
  random: RandomSource,
  config: FuzzConfig,
  peer: PerMessageDeflate | undefined,
): GeneratedStream {
  const builder = new StreamBuilder(random, config.side === 'server');
  const context: GeneratorContext = { random, config, builder, peer };
  const items = random.weighted<() => number>([
    [30, () => 1],
    [30, () => random.between(2, 3)],
    [25, () => random.between(4, 6)],
    [15, () => random.between(7, 14)],
  ])();
  const violationAt = random.chance(0.3) ? random.below(items + 1) : -1;
  for (let item = 0; item <= items; item++) {
    if (item === violationAt) appendViolation({ random, config, builder, deflate: peer !== undefined });
    if (item === items) break;
    const kind = random.weighted([
      [60, 'data'],
      [15, 'ping'],
      [8, 'pong'],
      [3, 'close'],
    ] as const);
    if (kind === 'data') dataMessage(context);
    else if (kind === 'close') closeFrame(context);
    else controlFrame(context, kind === 'ping' ? 0x9 : 0xa);
  }
  if (builder.open && random.chance(0.4)) closeFrame(context);
  // Bytes after the end: the engine must read none of them.
  if (!builder.open && random.chance(0.3)) builder.raw(randomBytes(random, random.between(1, 64)));
  return builder.build();
}
