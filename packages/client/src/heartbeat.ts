import { InvalidStateError } from '@ws/core';
import { PingTimeoutError } from './ping-timeout-error.js';

export interface HeartbeatOptions {
  /** Time between the end of one ping's round trip and the next ping, in ms. Default 30 000. */
  readonly interval?: number;
  /** Time a pong may take before the connection is given up as dead, in ms. Default 10 000. */
  readonly timeout?: number;
}

/** What the heartbeat drives: a connection that measures pings and can be torn down. */
export interface HeartbeatTarget {
  ping(options: { timeout: number }): Promise<number>;
  terminate(reason: string): void;
}

export const DEFAULT_HEARTBEAT_INTERVAL = 30_000;
export const DEFAULT_HEARTBEAT_TIMEOUT = 10_000;

/**
 * Pings the server at an interval and terminates the connection when a pong does not come in
 * time. A TCP connection whose peer vanished (a phone that lost coverage, a NAT that forgot the
 * mapping) otherwise looks open until the kernel gives up, which can take hours. RFC 6455
 * §5.5.2: "A Ping frame may serve either as a keepalive or as a means to verify that the remote
 * endpoint is still responsive." The timers do not keep the process alive.
 */
export class Heartbeat {
  readonly #target: HeartbeatTarget;
  readonly #interval: number;
  readonly #timeout: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(target: HeartbeatTarget, options: HeartbeatOptions = {}) {
    this.#target = target;
    this.#interval = positive(options.interval ?? DEFAULT_HEARTBEAT_INTERVAL, 'interval');
    this.#timeout = positive(options.timeout ?? DEFAULT_HEARTBEAT_TIMEOUT, 'timeout');
  }

  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(this.#beat, this.#interval);
    this.#timer.unref?.();
  }

  readonly #beat = (): void => {
    this.#target.ping({ timeout: this.#timeout }).then(
      () => this.#schedule(),
      (error: unknown) => {
        if (this.#stopped) return;
        this.stop();
        if (error instanceof PingTimeoutError) this.#target.terminate(`Heartbeat: ${error.message}`);
      },
    );
  };
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new InvalidStateError(`heartbeat.${name} must be a positive number of ms`, `heartbeat.${name}`);
  }
  return value;
}
