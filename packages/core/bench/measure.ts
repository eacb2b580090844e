/**
 * A small A/B timing harness: each contender runs in alternating rounds of a fixed duration,
 * and the median throughput of its rounds is reported. Alternation spreads thermal and
 * scheduling noise over both sides instead of penalising whichever runs second.
 */
export interface Contender {
  readonly name: string;
  /** Runs one operation; returns the number of payload bytes it processed. */
  readonly run: () => number;
}

export interface Measurement {
  readonly name: string;
  /** Bytes per second, median of rounds. */
  readonly bytesPerSecond: number;
  /** Operations per second, median of rounds. */
  readonly operationsPerSecond: number;
}

const ROUNDS = 7;
const ROUND_MILLISECONDS = 150;

function round(contender: Contender): { bytes: number; operations: number; seconds: number } {
  let bytes = 0;
  let operations = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ROUND_MILLISECONDS * 1e6);
  let now = start;
  while (now < deadline) {
    for (let batch = 0; batch < 16; batch++) {
      bytes += contender.run();
      operations++;
    }
    now = process.hrtime.bigint();
  }
  return { bytes, operations, seconds: Number(now - start) / 1e9 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function compare(contenders: readonly Contender[]): Measurement[] {
  for (const contender of contenders) round(contender); // warm-up: let V8 optimise each one
  const samples = contenders.map(() => ({ bytes: [] as number[], operations: [] as number[] }));
  for (let index = 0; index < ROUNDS; index++) {
    contenders.forEach((contender, position) => {
      const { bytes, operations, seconds } = round(contender);
      samples[position]!.bytes.push(bytes / seconds);
      samples[position]!.operations.push(operations / seconds);
    });
  }
  return contenders.map((contender, position) => ({
    name: contender.name,
    bytesPerSecond: median(samples[position]!.bytes),
    operationsPerSecond: median(samples[position]!.operations),
  }));
}

export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e9) return `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;
  return `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
}
