/**
 * The fuzzer's only source of randomness: mulberry32, a 32-bit generator small enough to keep
 * here and fast enough to draw millions of numbers a second. Every input, chunking and action
 * of a fuzz case comes from one seed, so a case replays exactly from that seed.
 */
export class RandomSource {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor((this.uint32() / 0x1_0000_0000) * bound);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.uint32() / 0x1_0000_0000 < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** Picks a value by weight: `[[3, 'a'], [1, 'b']]` yields 'a' three times as often as 'b'. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [weight] of choices) total += weight;
    let point = (this.uint32() / 0x1_0000_0000) * total;
    for (const [weight, value] of choices) {
      point -= weight;
      if (point < 0) return value;
    }
    return choices[choices.length - 1]![1];
  }

  /** Fills `target` with random bytes and returns it. */
  fill<T extends Uint8Array>(target: T): T {
    let index = 0;
    for (; index + 4 <= target.length; index += 4) {
      const word = this.uint32();
      target[index] = word;
      target[index + 1] = word >>> 8;
      target[index + 2] = word >>> 16;
      target[index + 3] = word >>> 24;
    }
    for (; index < target.length; index++) target[index] = this.uint32();
    return target;
  }
}

/**
 * The seed of case `index` of a run seeded with `seed` (splitmix32-style mixing), so that any
 * case can be rebuilt alone, without drawing the cases before it.
 */
export function caseSeed(seed: number, index: number): number {
  let z = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
