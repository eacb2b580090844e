/**
 * `pnpm fuzz`: a million random and mutated byte streams through ServerProtocol and
 * ClientProtocol, with and without permessage-deflate, every invariant checked on each.
 *
 *   pnpm fuzz                                  1,000,000 inputs, a random seed (printed)
 *   FUZZ_SEED=0x1234abcd FUZZ_RUNS=20000 pnpm fuzz    a given seed and count (or --seed, --runs)
 *   FUZZ_SEED=0x1234abcd FUZZ_START=4711 FUZZ_RUNS=1 pnpm fuzz   case 4711 of that run alone
 *   pnpm fuzz --replay /tmp/ws-core-fuzz-…/case-….json        a saved failing case
 *
 * Stops at the first input that breaks an invariant, saves it (hex, with its configuration
 * and seed) under the temporary directory, prints how to replay it, and exits with 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  fuzz,
  type FuzzFinding,
  type FuzzSummary,
  fuzzCaseFromJson,
  fuzzCaseToJson,
  runFuzzCase,
} from './protocol-fuzzer.js';

const DEFAULT_RUNS = 1_000_000;
/** Hex of a failing input printed in full up to this many bytes; the file always has all of it. */
const PRINTED_INPUT_BYTES = 2048;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  if (at !== -1) return process.argv[at + 1];
  return process.env[`FUZZ_${name.toUpperCase()}`];
}

function integer(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, not "${text}"`);
  }
  return value;
}

const grouped = (value: number) => value.toLocaleString('en-US');
const hexSeed = (seed: number) => `0x${seed.toString(16).padStart(8, '0')}`;

function duration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return minutes > 0
    ? `${minutes}m${Math.round(seconds - minutes * 60)
        .toString()
        .padStart(2, '0')}s`
    : `${seconds.toFixed(1)}s`;
}

function tally(map: ReadonlyMap<string | number, number>): string {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .map(([key, value]) => `${key} ×${grouped(value)}`)
    .join(', ');
}

/** Close codes, with the private and registered ranges' many echoed values counted together. */
function closeCodeTally(map: ReadonlyMap<string, number>): string {
  const grouping = new Map<string, number>();
  for (const [code, count] of map) {
    const value = Number(code);
    const key = value > 3000 && value < 3999 ? '3001-3998' : value > 4000 && value < 4999 ? '4001-4998' : code;
    grouping.set(key, (grouping.get(key) ?? 0) + count);
  }
  return tally(grouping);
}

function report(summary: FuzzSummary): void {
  const rate = summary.inputs / Math.max(summary.seconds, 1e-9);
  console.log(
    `\n${grouped(summary.inputs)} inputs, ${(summary.bytes / 1e6).toFixed(1)} MB, ${duration(summary.seconds)} (${grouped(Math.round(rate))} inputs/s), seed ${hexSeed(summary.seed)}`,
  );
  console.log(`  inputs:            ${tally(summary.kinds)}`);
  console.log(
    `  close codes sent:  ${closeCodeTally(summary.closeCodes)}   ('empty': close frame without code, 'none': no close frame)`,
  );
  console.log(`  failures reported: ${tally(summary.errorCodes)}`);
}

function save(finding: FuzzFinding, seed: number): string {
  const directory = mkdtempSync(join(tmpdir(), 'ws-core-fuzz-'));
  const file = join(directory, `case-${hexSeed(seed)}-${finding.index}.json`);
  writeFileSync(
    file,
    fuzzCaseToJson(finding.fuzzCase, { runSeed: seed, index: finding.index, failure: finding.failure.message }),
  );
  return file;
}

function printFinding(finding: FuzzFinding, seed: number): void {
  const file = save(finding, seed);
  const input = finding.fuzzCase.input;
  const shown = input.subarray(0, PRINTED_INPUT_BYTES).toString('hex');
  console.log(
    `\nFAILED on input ${finding.index} (case seed ${hexSeed(finding.fuzzCase.seed)}, ${finding.fuzzCase.kind}, ${finding.fuzzCase.config.side}):`,
  );
  console.log(`  ${finding.failure.message}`);
  console.log(`  config: ${JSON.stringify(finding.fuzzCase.config)}`);
  console.log(`  input (${input.length} bytes): ${shown}${input.length > PRINTED_INPUT_BYTES ? ' …' : ''}`);
  console.log(`  saved: ${file}`);
  console.log(`  replay this input:  pnpm fuzz --replay ${file}`);
  console.log(`  rerun this case:    FUZZ_SEED=${hexSeed(seed)} FUZZ_START=${finding.index} FUZZ_RUNS=1 pnpm fuzz`);
  console.log(`  rerun up to it:     FUZZ_SEED=${hexSeed(seed)} FUZZ_RUNS=${finding.index + 1} pnpm fuzz`);
}

function replay(path: string): number {
  // pnpm runs the script in packages/core; a relative path is meant from where `pnpm` was typed.
  const file = resolve(process.env.INIT_CWD ?? process.cwd(), path);
  const fuzzCase = fuzzCaseFromJson(readFileSync(file, 'utf8'));
  console.log(`Replaying ${file}: ${fuzzCase.kind} ${fuzzCase.config.side} input of ${fuzzCase.input.length} bytes`);
  try {
    const outcome = runFuzzCase(fuzzCase);
    console.log(
      `Passed: close sent ${outcome.sentClose}, failure ${outcome.errorCode ?? 'none'}. (If it failed in a run, state left by earlier inputs may matter: rerun the run up to it.)`,
    );
    return 0;
  } catch (error) {
    console.log('FAILED:');
    console.log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

async function main(): Promise<number> {
  const replayFile = option('replay');
  if (replayFile !== undefined) return replay(replayFile);
  const seed = integer(option('seed'), 'FUZZ_SEED') ?? randomBytes(4).readUInt32BE(0);
  if (seed > 0xffff_ffff) throw new RangeError('FUZZ_SEED must fit in 32 bits');
  const runs = integer(option('runs'), 'FUZZ_RUNS') ?? DEFAULT_RUNS;
  const start = integer(option('start'), 'FUZZ_START') ?? 0;
  console.log(
    `Fuzzing ServerProtocol and ClientProtocol: ${grouped(runs)} inputs from #${start}, seed ${hexSeed(seed)}`,
  );
  console.log(
    `  reproduce with: FUZZ_SEED=${hexSeed(seed)} FUZZ_RUNS=${runs}${start > 0 ? ` FUZZ_START=${start}` : ''} pnpm fuzz`,
  );
  const summary = await fuzz({
    seed,
    runs,
    start,
    onProgress: ({ done, bytes, seconds }) => {
      const rate = done / seconds;
      console.log(
        `  ${((100 * done) / runs).toFixed(1).padStart(5)}%  ${grouped(done)} inputs  ${(bytes / 1e6).toFixed(1)} MB  ${grouped(Math.round(rate))} inputs/s  eta ${duration((runs - done) / rate)}`,
      );
    },
  });
  report(summary);
  if (summary.finding === undefined) return 0;
  printFinding(summary.finding, seed);
  return 1;
}

process.exitCode = await main();
