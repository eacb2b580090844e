import { type FuzzCase, generateFuzzCase, type InputKind } from './fuzz-case.js';
import { FuzzFailure, Invariant } from './fuzz-failure.js';
import { caseSeed } from './random-source.js';
import { runFuzzCase } from './run-fuzz-case.js';

/**
 * The fuzzer of ServerProtocol and ClientProtocol: random and mutated byte streams, with and
 * without permessage-deflate, through both engines, every invariant checked on every input.
 * `run-fuzz.ts` is its command line; the vitest suite runs a short seeded pass of it.
 */
export { type FuzzCase, fuzzCaseFromJson, fuzzCaseToJson, generateFuzzCase, InputKind } from './fuzz-case.js';
export { FuzzFailure, Invariant } from './fuzz-failure.js';
export { caseSeed } from './random-source.js';
export { runFuzzCase } from './run-fuzz-case.js';

export interface FuzzOptions {
  readonly seed: number;
  readonly runs: number;
  /** Index of the first case: with `runs: 1`, reruns one case of an earlier run. Default 0. */
  readonly start?: number;
  /** Called about every `progressInterval` milliseconds. */
  readonly onProgress?: (progress: FuzzProgress) => void;
  readonly progressInterval?: number;
}

export interface FuzzProgress {
  readonly done: number;
  readonly runs: number;
  readonly bytes: number;
  readonly seconds: number;
}

export interface FuzzFinding {
  readonly index: number;
  readonly fuzzCase: FuzzCase;
  readonly failure: FuzzFailure;
}

export interface FuzzSummary {
  readonly seed: number;
  readonly start: number;
  /** Cases run (up to and including a failing one). */
  readonly inputs: number;
  /** Bytes fed to engines. */
  readonly bytes: number;
  readonly seconds: number;
  /** Close frames the engines sent, by code ('empty': no status code; 'none': no close frame). */
  readonly closeCodes: ReadonlyMap<string, number>;
  /** Failures by `WS_ERR_*` code. */
  readonly errorCodes: ReadonlyMap<string, number>;
  readonly kinds: ReadonlyMap<InputKind, number>;
  /** The first case that broke an invariant; the run stops there. */
  readonly finding: FuzzFinding | undefined;
}

function count<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function toFailure(error: unknown): FuzzFailure {
  // Whatever escapes is a finding: an exception from the engine's extension code, or from the
  // peer's end decoding what the engine wrote, is as much a bug as a broken invariant.
  return error instanceof FuzzFailure
    ? error
    : new FuzzFailure(Invariant.NoThrow, `Unexpected exception: ${(error as Error).stack ?? String(error)}`, {
        cause: error,
      });
}

/**
 * Runs a failing case again with stack traces on, for the report; keeps the first failure if
 * the case passes alone (it then depended on state left by earlier cases).
 */
function withStack(finding: FuzzFinding): FuzzFinding {
  try {
    runFuzzCase(finding.fuzzCase);
    return finding;
  } catch (error) {
    return { ...finding, failure: toFailure(error) };
  }
}

/**
 * Every this many cases the run lets the event loop turn. Node's zlib releases a closed engine
 * from a `process.nextTick` callback (its 'close' event): a loop that never yields keeps every
 * engine it closed, about 2 KiB of buffers per case, 2 GiB over a million cases. A server's
 * event loop turns all the time, so this is the fuzzer's problem, not the engine's.
 */
const CASES_PER_TURN = 256;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs `runs` cases of `seed`, stopping at the first that breaks an invariant. */
export async function fuzz(options: FuzzOptions): Promise<FuzzSummary> {
  // Every failure and every refused send builds an Error, thousands a second; capturing their
  // stacks (through tsx's source maps) took a tenth of the run. A finding is rerun with them.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let summary: FuzzSummary;
  try {
    summary = await fuzzWithoutStacks(options);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return summary.finding === undefined ? summary : { ...summary, finding: withStack(summary.finding) };
}

async function fuzzWithoutStacks(options: FuzzOptions): Promise<FuzzSummary> {
  const start = options.start ?? 0;
  const interval = options.progressInterval ?? 5000;
  const began = performance.now();
  let lastReport = began;
  let bytes = 0;
  let inputs = 0;
  let finding: FuzzFinding | undefined;
  const closeCodes = new Map<string, number>();
  const errorCodes = new Map<string, number>();
  const kinds = new Map<InputKind, number>();
  for (let index = start; index < start + options.runs; index++) {
    const fuzzCase = generateFuzzCase(caseSeed(options.seed, index));
    inputs++;
    count(kinds, fuzzCase.kind);
    try {
      const outcome = runFuzzCase(fuzzCase);
      bytes += outcome.bytes;
      count(closeCodes, String(outcome.sentClose));
      if (outcome.errorCode !== undefined) count(errorCodes, outcome.errorCode);
    } catch (error) {
      finding = { index, fuzzCase, failure: toFailure(error) };
      break;
    }
    if (inputs % CASES_PER_TURN === 0) {
      await turn();
      const now = performance.now();
      if (options.onProgress !== undefined && now - lastReport >= interval) {
        lastReport = now;
        options.onProgress({ done: inputs, runs: options.runs, bytes, seconds: (now - began) / 1000 });
      }
    }
  }
  return {
    seed: options.seed,
    start,
    inputs,
    bytes,
    seconds: (performance.now() - began) / 1000,
    closeCodes,
    errorCodes,
    kinds,
    finding,
  };
}
