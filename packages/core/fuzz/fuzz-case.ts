import { Buffer } from 'node:buffer';
import { mutate, randomStream } from './byte-mutator.js';
import { createEndpoints, type FuzzConfig, randomConfig } from './fuzz-config.js';
import { generateStream } from './message-stream-generator.js';
import { RandomSource } from './random-source.js';
import type { Expectation, ExpectedEvent } from './stream-builder.js';

/** Where a case's bytes come from. */
export const InputKind = {
  /** A generated stream, unchanged: the engine must report exactly its expectation. */
  Generated: 'generated',
  /** A generated stream, then damaged. */
  Mutated: 'mutated',
  /** Noise, or random frames. */
  Random: 'random',
} as const;

export type InputKind = (typeof InputKind)[keyof typeof InputKind];

/**
 * One input for the engine, with everything needed to run it again: the configuration, the
 * bytes, and the seed that drives chunking, application actions and masking keys.
 */
export interface FuzzCase {
  readonly seed: number;
  readonly kind: InputKind;
  readonly config: FuzzConfig;
  readonly input: Buffer;
  readonly expectation: Expectation | undefined;
}

/** Builds case `seed`: a configuration, then a generated, mutated or random stream for it. */
export function generateFuzzCase(seed: number): FuzzCase {
  const random = new RandomSource(seed);
  const config = randomConfig(random);
  const kind = random.weighted([
    [30, InputKind.Generated],
    [55, InputKind.Mutated],
    [15, InputKind.Random],
  ] as const);
  const masked = config.side === 'server';
  if (kind === InputKind.Random) {
    return { seed, kind, config, input: randomStream(random, masked), expectation: undefined };
  }
  // The peer's end of the negotiated extension compresses the stream; the engine built beside it is not used.
  const generation = createEndpoints(config, () => Buffer.alloc(4));
  try {
    const stream = generateStream(random, config, generation.peerDeflate);
    if (kind === InputKind.Generated) {
      return { seed, kind, config, input: stream.bytes, expectation: stream.expectation };
    }
    return {
      seed,
      kind,
      config,
      input: mutate(random, stream.bytes, stream.frameStarts, masked),
      expectation: undefined,
    };
  } finally {
    generation.dispose();
  }
}

/** What a replay file holds besides the case: where it came from and what went wrong. */
export interface FuzzCaseOrigin {
  readonly runSeed: number;
  readonly index: number;
  readonly failure: string;
}

function eventToJson(event: ExpectedEvent): unknown {
  return event.type === 'close' ? event : { ...event, data: event.data.toString('hex') };
}

function eventFromJson(value: {
  type: ExpectedEvent['type'];
  data?: string;
  isBinary?: boolean;
  code?: number;
  reason?: string;
}): ExpectedEvent {
  if (value.type === 'close') return { type: 'close', code: value.code!, reason: value.reason! };
  const data = Buffer.from(value.data!, 'hex');
  return value.type === 'message' ? { type: 'message', data, isBinary: value.isBinary! } : { type: value.type, data };
}

/** A replay file: JSON, the input as hex. */
export function fuzzCaseToJson(fuzzCase: FuzzCase, origin: FuzzCaseOrigin): string {
  const expectation = fuzzCase.expectation;
  return `${JSON.stringify(
    {
      ...origin,
      seed: fuzzCase.seed,
      kind: fuzzCase.kind,
      config: fuzzCase.config,
      expectation:
        expectation === undefined
          ? undefined
          : { failureCode: expectation.failureCode, events: expectation.events.map(eventToJson) },
      input: fuzzCase.input.toString('hex'),
    },
    null,
    2,
  )}\n`;
}

export function fuzzCaseFromJson(text: string): FuzzCase {
  const value = JSON.parse(text);
  if (typeof value.input !== 'string' || typeof value.seed !== 'number' || typeof value.config !== 'object') {
    throw new TypeError('Not a fuzz case file: it needs "seed", "config" and "input" (hex)');
  }
  const expectation: Expectation | undefined =
    value.expectation === undefined
      ? undefined
      : { failureCode: value.expectation.failureCode, events: value.expectation.events.map(eventFromJson) };
  return {
    seed: value.seed,
    kind: value.kind ?? InputKind.Mutated,
    config: value.config,
    input: Buffer.from(value.input, 'hex'),
    expectation,
  };
}
