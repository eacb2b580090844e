import { execFileSync } from 'node:child_process';

/** The middle value (the upper one of the two middles for an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** A count as the tables print it: rounded, with thousands separators. */
export function formatNumber(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A share (1 = 100 %) as the tables print it. */
export function formatPercent(value: number): string {
  return `${(value * 100).toFixed(0)}%`;
}

let tasksetWorks: boolean | undefined;

/**
 * Whether processes can be pinned to a core with `taskset` here. Asked only by the orchestrating
 * process, once: the benchmark processes it starts never pay for the check.
 */
export function hasTaskset(): boolean {
  if (tasksetWorks === undefined) {
    try {
      execFileSync('taskset', ['-c', '0', 'true']);
      tasksetWorks = true;
    } catch {
      tasksetWorks = false;
    }
  }
  return tasksetWorks;
}
