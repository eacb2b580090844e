/** How long to wait before each reconnection attempt to Redis. */
export interface ReconnectOptions {
  /** The first delay, in ms; each failed attempt doubles it. Default 100. */
  readonly initialDelay?: number;
  /** The longest delay, in ms. Default 5000. */
  readonly maxDelay?: number;
}

/**
 * Exponential backoff with jitter: attempt `n` waits between half and all of
 * `min(maxDelay, initialDelay × 2^n)`, so that many processes that lost the same Redis do not
 * all come back in the same millisecond.
 */
export function reconnectBackoff(initialDelay: number, maxDelay: number, random: () => number = Math.random): (retries: number) => number {
  return (retries) => {
    const ceiling = Math.min(maxDelay, initialDelay * 2 ** Math.min(retries, 30));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  };
}
