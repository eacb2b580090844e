import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat, type HeartbeatPeer, kHeartbeatExempt, kHeartbeatPing, kHeartbeatTimedOut } from './heartbeat.js';

class FakePeer implements HeartbeatPeer {
  pings = 0;
  timedOut = 0;
  paused = false;
  [kHeartbeatPing](): void {
    this.pings++;
  }
  [kHeartbeatExempt](): boolean {
    return this.paused;
  }
  [kHeartbeatTimedOut](): void {
    this.timedOut++;
  }
}

describe('Heartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const create = (interval = 1_000, timeout = 1_000) =>
    new Heartbeat({ interval, timeout }, { interval: 1, timeout: 1 }, () => Date.now());

  it('pings a peer every interval and measures the round trip of the pong', () => {
    const heartbeat = create();
    const peer = new FakePeer();
    heartbeat.add(peer);
    vi.advanceTimersByTime(999);
    expect(peer.pings).toBe(0);
    vi.advanceTimersByTime(1);
    expect(peer.pings).toBe(1);
    vi.advanceTimersByTime(40);
    expect(heartbeat.pongReceived(peer)).toBe(40);
    // An unsolicited pong answers nothing.
    expect(heartbeat.pongReceived(peer)).toBeUndefined();
    vi.advanceTimersByTime(960);
    expect(peer.pings).toBe(2);
    expect(peer.timedOut).toBe(0);
    heartbeat.stop();
  });

  it('gives up a peer that does not answer within the timeout, once', () => {
    const heartbeat = create(1_000, 500);
    const peer = new FakePeer();
    heartbeat.add(peer);
    vi.advanceTimersByTime(1_000);
    expect(peer.pings).toBe(1);
    vi.advanceTimersByTime(499);
    expect(peer.timedOut).toBe(0);
    vi.advanceTimersByTime(1);
    expect(peer.timedOut).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(peer.timedOut).toBe(1);
    expect(heartbeat.size).toBe(0);
    expect(heartbeat.isRunning).toBe(false);
  });

  it('keeps a peer that answers, and times out only the silent one', () => {
    const heartbeat = create();
    const alive = new FakePeer();
    const dead = new FakePeer();
    heartbeat.add(alive);
    heartbeat.add(dead);
    for (let round = 0; round < 5; round++) {
      vi.advanceTimersByTime(1_000);
      heartbeat.pongReceived(alive);
    }
    expect(alive.timedOut).toBe(0);
    expect(dead.timedOut).toBe(1);
    expect(heartbeat.size).toBe(1);
    heartbeat.stop();
  });

  it('does not time out a peer whose socket the application paused', () => {
    const heartbeat = create();
    const peer = new FakePeer();
    heartbeat.add(peer);
    vi.advanceTimersByTime(1_000);
    peer.paused = true;
    vi.advanceTimersByTime(10_000);
    expect(peer.timedOut).toBe(0);
    peer.paused = false;
    vi.advanceTimersByTime(1_000);
    expect(peer.pings).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(peer.timedOut).toBe(1);
  });

  it('arms one timer for any number of peers, and none without peers', () => {
    const heartbeat = create();
    expect(vi.getTimerCount()).toBe(0);
    const peers = Array.from({ length: 1_000 }, () => new FakePeer());
    for (const peer of peers) heartbeat.add(peer);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(peers.every((peer) => peer.pings === 1)).toBe(true);
    for (const peer of peers) heartbeat.delete(peer);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a non-positive interval or timeout', () => {
    const defaults = { interval: 1, timeout: 1 };
    expect(() => new Heartbeat({ interval: 0, timeout: 1 }, defaults)).toThrow(RangeError);
    expect(() => new Heartbeat({ interval: 0, timeout: 1 }, defaults)).toThrow(/heartbeat\.interval/);
    expect(() => new Heartbeat({ interval: 1, timeout: -1 }, defaults)).toThrow(/heartbeat\.timeout/);
    expect(() => Heartbeat.fromOption('yes' as never, { ...defaults, enabled: true })).toThrow(TypeError);
    expect(Heartbeat.fromOption(false, { ...defaults, enabled: true })).toBeUndefined();
    expect(Heartbeat.fromOption(undefined, { ...defaults, enabled: false })).toBeUndefined();
  });
});
