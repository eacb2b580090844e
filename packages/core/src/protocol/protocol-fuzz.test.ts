import { Buffer } from 'node:buffer';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Protocol, SEND_EOF } from '@ws/core';
import {
  caseSeed,
  fuzz,
  type FuzzSummary,
  fuzzCaseFromJson,
  fuzzCaseToJson,
  generateFuzzCase,
  Invariant,
  runFuzzCase,
} from '../../fuzz/protocol-fuzzer.js';

/**
 * The seeded pass `pnpm test` runs: about 2 s of CPU, so it stays far from any timeout on a
 * loaded CI machine. `pnpm fuzz` runs a million inputs with a fresh seed.
 */
const SEED = 0x5eed;
const RUNS = 8_000;

function describeFinding(summary: FuzzSummary): string | undefined {
  const finding = summary.finding;
  if (finding === undefined) return undefined;
  return `${finding.failure.message}\ninput ${finding.index} (${finding.fuzzCase.kind}, ${JSON.stringify(finding.fuzzCase.config)}): ${finding.fuzzCase.input.toString('hex')}\nreplay: FUZZ_SEED=${SEED} FUZZ_START=${finding.index} FUZZ_RUNS=1 pnpm fuzz`;
}

/** The counts of two consecutive runs, as one run over both would report them. */
function mergeSummaries(first: FuzzSummary, second: FuzzSummary): FuzzSummary {
  const merge = <Key>(a: ReadonlyMap<Key, number>, b: ReadonlyMap<Key, number>): Map<Key, number> => {
    const merged = new Map(a);
    for (const [key, value] of b) merged.set(key, (merged.get(key) ?? 0) + value);
    return merged;
  };
  return {
    ...second,
    start: first.start,
    inputs: first.inputs + second.inputs,
    bytes: first.bytes + second.bytes,
    seconds: first.seconds + second.seconds,
    closeCodes: merge(first.closeCodes, second.closeCodes),
    errorCodes: merge(first.errorCodes, second.errorCodes),
    kinds: merge(first.kinds, second.kinds),
    finding: first.finding ?? second.finding,
  };
}

/** V8's `gc()`, so that the memory check measures what is retained, not what awaits collection. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Heap and Buffer memory still reachable. A closed zlib engine is freed only after the event
 * loop turns, so a few turns pass (and collections run) before measuring.
 */
async function retainedBytes(gc: () => void): Promise<number> {
  for (let turn = 0; turn < 4; turn++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Runs `body` with one Protocol method replaced, to give the fuzzer a bug to find. */
async function withBrokenEngine<T>(
  method: 'dataToSend' | 'eventsReceived',
  replace: (original: () => unknown) => () => unknown,
  body: () => Promise<T>,
): Promise<T> {
  const prototype = Protocol.prototype as unknown as Record<string, () => unknown>;
  const original = prototype[method]!;
  prototype[method] = replace(original);
  try {
    return await body();
  } finally {
    prototype[method] = original;
  }
}

describe('fuzzing ServerProtocol and ClientProtocol (fuzz/protocol-fuzzer.ts)', () => {
  it(`keeps every invariant over ${RUNS.toLocaleString('en-US')} seeded random and mutated streams, with and without permessage-deflate`, async () => {
    const gc = collectGarbage();
    // The first half warms up what is allocated once per process (the zlib engines shared by
    // settings, the output slab); the second half must not grow memory beyond noise.
    const firstHalf = await fuzz({ seed: SEED, runs: RUNS / 2 });
    expect(describeFinding(firstHalf)).toBeUndefined();
    const before = await retainedBytes(gc);
    const secondHalf = await fuzz({ seed: SEED, runs: RUNS / 2, start: RUNS / 2 });
    const summary = mergeSummaries(firstHalf, secondHalf);
    // Never throws, closes with the failure's code (one an endpoint may send), nothing after a
    // failure, state only forward, events within the limits, generated streams delivered as sent.
    expect(describeFinding(summary)).toBeUndefined();
    expect(summary.inputs).toBe(RUNS);
    // The pass reaches what it is meant to: every close code a failure sends, the limits, deflate.
    for (const code of ['1002', '1007', '1008', '1009']) expect(summary.closeCodes.get(code)).toBeGreaterThan(0);
    for (const error of [
      'WS_ERR_MESSAGE_TOO_BIG',
      'WS_ERR_FRAME_TOO_BIG',
      'WS_ERR_PING_FLOOD',
      'WS_ERR_INVALID_COMPRESSED_DATA',
      'WS_ERR_INVALID_UTF8',
    ]) {
      expect(summary.errorCodes.get(error)).toBeGreaterThan(0);
    }
    // Nothing is retained across connections: 4,000 more of them leave no more than a few MiB.
    // (About 0.1 MiB measured.)
    expect((await retainedBytes(gc)) - before).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);

  it('replays a case from its file exactly as it ran', () => {
    for (let index = 0; index < 20; index++) {
      const fuzzCase = generateFuzzCase(caseSeed(SEED, index));
      const origin = { runSeed: SEED, index, failure: '' };
      const replayed = fuzzCaseFromJson(fuzzCaseToJson(fuzzCase, origin));
      expect(fuzzCaseToJson(replayed, origin)).toBe(fuzzCaseToJson(fuzzCase, origin));
      expect(runFuzzCase(replayed)).toEqual(runFuzzCase(fuzzCase));
    }
  });

  it('finds a message event after a failure', async () => {
    const summary = await withBrokenEngine(
      'eventsReceived',
      (original) =>
        function (this: Protocol) {
          const events = original.call(this) as { type: string }[];
          return events.some((event) => event.type === 'error')
            ? [...events, { type: 'message', data: Buffer.from('late'), isBinary: true }]
            : events;
        },
      () => fuzz({ seed: SEED, runs: 200 }),
    );
    expect(summary.finding?.failure.invariant).toBe(Invariant.AfterError);
  });

  it('finds a close frame with a code an endpoint may not send', async () => {
    const summary = await withBrokenEngine(
      'dataToSend',
      (original) =>
        function (this: Protocol) {
          // 1006 "MUST NOT be set as a status code in a Close control frame by an endpoint".
          return (original.call(this) as (Buffer | typeof SEND_EOF)[]).map((data) =>
            data !== SEND_EOF && data.length === 4 && data[0] === 0x88 && data[1] === 0x02
              ? Buffer.from([0x88, 0x02, 0x03, 0xee])
              : data,
          );
        },
      () => fuzz({ seed: SEED, runs: 200 }),
    );
    expect(summary.finding?.failure.invariant).toBe(Invariant.CloseCode);
  });
});
