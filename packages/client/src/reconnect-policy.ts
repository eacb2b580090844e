import { CloseCode, HandshakeError } from '@ws/core';

/** Why a connection ended or an attempt failed, as the reconnect policy sees it. */
export interface Disconnect {
  /** The close code (1006 when no close frame came, or when the attempt never opened). */
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  /** The attempt's `HandshakeError`, or the `ProtocolError` that failed the connection. */
  readonly error: Error | undefined;
  /** Consecutive failed attempts before this one (0 after a connection that was stable). */
  readonly attempt: number;
}

export interface SendQueueOptions {
  /** Most messages held while disconnected. Default 100. */
  readonly maxMessages?: number;
  /** Most bytes held while disconnected. Default 1 MiB. */
  readonly maxBytes?: number;
}

export interface ReconnectOptions {
  /** Delay before the first retry, in ms. Default 500. */
  readonly initialDelay?: number;
  /** The delay never exceeds this, in ms. Default 30 000. */
  readonly maxDelay?: number;
  /** Each retry waits this many times longer than the one before. Default 2. */
  readonly factor?: number;
  /** Share of each delay that is random, from 0 (none) to 1 (anywhere between 0 and the delay). Default 0.5. */
  readonly jitter?: number;
  /** Consecutive failed attempts before giving up. Default Infinity. */
  readonly maxAttempts?: number;
  /** A connection that stayed open this long resets the backoff, in ms. Default 5000. */
  readonly resetAfter?: number;
  /** Whether to try again after this disconnect. Default: {@link shouldReconnectByDefault}. */
  readonly shouldReconnect?: (disconnect: Disconnect) => boolean;
  /** Hold messages sent while disconnected and send them on reconnect. Default off. */
  readonly queue?: SendQueueOptions | boolean;
  /** The random source for jitter (tests make it fixed). Default `Math.random`. */
  readonly random?: () => number;
}

/** Status codes that say "do not ask again": HTTP 3xx/4xx except 408 Request Timeout and 429 Too Many Requests. */
const RETRYABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([408, 429]);

/**
 * The default policy: retry after network failures, timeouts, 5xx answers and closes, but not
 * after a refusal — an HTTP 3xx/4xx answer (except 408 and 429), a close with 1008 (policy
 * violation) or with an application code 4000-4999, or an invalid option.
 */
export function shouldReconnectByDefault(disconnect: Disconnect): boolean {
  const { error, code } = disconnect;
  // A bad option fails every attempt alike.
  if (error instanceof TypeError || error instanceof RangeError) return false;
  if (error instanceof HandshakeError && error.status >= 300 && error.status < 500) {
    return RETRYABLE_HTTP_STATUSES.has(error.status);
  }
  return code !== CloseCode.PolicyViolation && !(code >= 4000 && code <= 4999);
}

/** The reconnect options checked, with their defaults. */
export interface ResolvedReconnectPolicy {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: number;
  readonly maxAttempts: number;
  readonly resetAfter: number;
  readonly shouldReconnect: (disconnect: Disconnect) => boolean;
  readonly random: () => number;
  readonly queueLimits: { readonly maxMessages: number; readonly maxBytes: number } | undefined;
}

/** Checks the `reconnect` option (a `RangeError` naming a bad value) and fills in the defaults. */
export function resolveReconnectPolicy(reconnect: ReconnectOptions | boolean | undefined): ResolvedReconnectPolicy {
  const policy = typeof reconnect === 'object' ? reconnect : {};
  const queue = policy.queue;
  return {
    initialDelay: nonNegative(policy.initialDelay ?? 500, 'initialDelay'),
    maxDelay: nonNegative(policy.maxDelay ?? 30_000, 'maxDelay'),
    factor: nonNegative(policy.factor ?? 2, 'factor'),
    jitter: Math.min(1, nonNegative(policy.jitter ?? 0.5, 'jitter')),
    maxAttempts: nonNegative(policy.maxAttempts ?? Infinity, 'maxAttempts'),
    resetAfter: nonNegative(policy.resetAfter ?? 5_000, 'resetAfter'),
    shouldReconnect: policy.shouldReconnect ?? shouldReconnectByDefault,
    random: policy.random ?? Math.random,
    queueLimits:
      queue === undefined || queue === false
        ? undefined
        : {
            maxMessages: nonNegative((queue === true ? undefined : queue.maxMessages) ?? 100, 'queue.maxMessages'),
            maxBytes: nonNegative((queue === true ? undefined : queue.maxBytes) ?? 1024 * 1024, 'queue.maxBytes'),
          },
  };
}

/** Exponential backoff with jitter: the base delay grows by `factor` per attempt up to `maxDelay`. */
export function delayFor(policy: ResolvedReconnectPolicy, attempt: number): number {
  const base = Math.min(policy.maxDelay, policy.initialDelay * policy.factor ** (attempt - 1));
  return Math.round(base * (1 - policy.jitter * policy.random()));
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`The "reconnect.${name}" option must be a number`);
  if (!(value >= 0)) throw new RangeError(`The "reconnect.${name}" option must be a non-negative number; received ${value}`);
  return value;
}
