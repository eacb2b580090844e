import { ConnectionClosedError, InvalidStateError } from '@ws/core';
import { describe, expect, test, vi } from 'vitest';
import { Heartbeat, type HeartbeatTarget } from './heartbeat.js';
import { PingTimeoutError } from './ping-timeout-error.js';

function fakeTarget(answers: (() => Promise<number>)[]): HeartbeatTarget & { pings: number[]; terminated: string[] } {
  const target = {
    pings: [] as number[],
    terminated: [] as string[],
    ping: (options: { timeout: number }) => {
      target.pings.push(options.timeout);
      return (answers.shift() ?? (() => Promise.resolve(1)))();
    },
    terminate: (reason: string) => {
      target.terminated.push(reason);
    },
  };
  return target;
}

describe('Heartbeat', () => {
  test('pings every interval with the timeout, waiting for each round trip', async () => {
    vi.useFakeTimers();
    try {
      const target = fakeTarget([]);
      const heartbeat = new Heartbeat(target, { interval: 100, timeout: 40 });
      heartbeat.start();
      await vi.advanceTimersByTimeAsync(99);
      expect(target.pings).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(target.pings).toEqual([40]);
      await vi.advanceTimersByTimeAsync(300);
      expect(target.pings).toEqual([40, 40, 40, 40]);
      heartbeat.stop();
      await vi.advanceTimersByTimeAsync(500);
      expect(target.pings).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });

  test('terminates the connection when a pong does not come in time, and stops', async () => {
    vi.useFakeTimers();
    try {
      const target = fakeTarget([() => Promise.reject(new PingTimeoutError(40))]);
      new Heartbeat(target, { interval: 10, timeout: 40 }).start();
      await vi.advanceTimersByTimeAsync(100);
      expect(target.terminated).toEqual(['Heartbeat: No pong within 40 ms']);
      expect(target.pings).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  test('stops quietly when the connection closed', async () => {
    vi.useFakeTimers();
    try {
      const target = fakeTarget([() => Promise.reject(new ConnectionClosedError(1000, '', true))]);
      new Heartbeat(target, { interval: 10 }).start();
      await vi.advanceTimersByTimeAsync(100);
      expect(target.terminated).toEqual([]);
      expect(target.pings).toEqual([10_000]);
    } finally {
      vi.useRealTimers();
    }
  });

  test('rejects a non-positive interval or timeout', () => {
    expect(() => new Heartbeat(fakeTarget([]), { interval: 0 })).toThrow(InvalidStateError);
    expect(() => new Heartbeat(fakeTarget([]), { timeout: -1 })).toThrow(InvalidStateError);
  });
});
