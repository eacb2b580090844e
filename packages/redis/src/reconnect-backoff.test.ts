import { describe, expect, it } from 'vitest';
import { reconnectBackoff } from './reconnect-backoff.js';

describe('reconnectBackoff', () => {
  it('doubles from the initial delay up to the maximum, with jitter in the upper half', () => {
    const lowest = reconnectBackoff(100, 5_000, () => 0);
    const highest = reconnectBackoff(100, 5_000, () => 1);
    expect([0, 1, 2, 3, 10, 1_000].map(lowest)).toEqual([50, 100, 200, 400, 2_500, 2_500]);
    expect([0, 1, 2, 3, 10, 1_000].map(highest)).toEqual([100, 200, 400, 800, 5_000, 5_000]);
  });
});
