import type { Buffer } from 'node:buffer';
import type { RedisClusterOptions } from '@redis/client';
import { positiveOption } from '@ws/core/node';
import type { ChannelListener } from './redis-transport.js';
import type { ReconnectOptions } from './reconnect-backoff.js';

/**
 * The part of a node-redis client (`createClient()` of `redis` or `@redis/client`, v5 or later)
 * the adapter uses, so that a client of any version or module set is accepted.
 */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  duplicate(overrides?: { readonly disableOfflineQueue?: boolean }): RedisClientLike;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<unknown>;
  unsubscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<unknown>;
  // As EventEmitter declares them: a client's listener types depend on the event.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
  close(): Promise<unknown>;
  destroy(): unknown;
}

/** Where Redis is: exactly one of these. */
export type RedisTarget =
  /** A `redis://` or `rediss://` URL: the adapter creates and owns its two connections. */
  | { readonly url: string; readonly client?: never; readonly cluster?: never }
  /** The application's client: used to publish, duplicated to subscribe; the adapter never closes it. */
  | { readonly client: RedisClientLike; readonly url?: never; readonly cluster?: never }
  /** A Redis Cluster (sharded Pub/Sub, Redis 7 or later): `createCluster` options, `rootNodes` at least. */
  | { readonly cluster: Pick<RedisClusterOptions, 'rootNodes' | 'defaults'>; readonly url?: never; readonly client?: never };

export type RedisAdapterOptions = RedisTarget & {
  /** Put before every topic to make its Redis channel, so several applications can share a Redis. Default `'ws:'`. */
  readonly prefix?: string;
  /**
   * Publishes that may be on their way to Redis at once; past it (Redis slow or away) a publish
   * is dropped and counted, so memory stays bounded. Default 1024.
   */
  readonly maxPendingPublishes?: number;
  /** The backoff between reconnection attempts of the connections the adapter creates. */
  readonly reconnect?: ReconnectOptions;
};

export interface ResolvedRedisAdapterOptions {
  readonly target: RedisTarget;
  readonly prefix: string;
  readonly maxPendingPublishes: number;
  readonly initialDelay: number;
  readonly maxDelay: number;
}

export const DEFAULT_PREFIX = 'ws:';
export const DEFAULT_MAX_PENDING_PUBLISHES = 1024;

/** Checks every option (a `TypeError`/`RangeError` naming the bad one) and fills in the defaults. */
export function resolveRedisAdapterOptions(options: RedisAdapterOptions): ResolvedRedisAdapterOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('The "options" argument must be an object');
  const given = [options.url, options.client, options.cluster].filter((value) => value !== undefined).length;
  if (given !== 1) throw new TypeError('Give exactly one of the "url", "client" or "cluster" options');
  if (options.url !== undefined && typeof options.url !== 'string') throw new TypeError('The "url" option must be a string');
  if (options.client !== undefined && typeof options.client?.duplicate !== 'function') {
    throw new TypeError('The "client" option must be a node-redis client (createClient())');
  }
  if (options.cluster !== undefined && !Array.isArray(options.cluster?.rootNodes)) {
    throw new TypeError('The "cluster" option must have a "rootNodes" array');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string') throw new TypeError('The "prefix" option must be a string');
  const maxPendingPublishes = positiveOption(options.maxPendingPublishes, DEFAULT_MAX_PENDING_PUBLISHES, 'maxPendingPublishes', false);
  const initialDelay = positiveOption(options.reconnect?.initialDelay, 100, 'reconnect.initialDelay', false);
  const maxDelay = positiveOption(options.reconnect?.maxDelay, 5_000, 'reconnect.maxDelay', false);
  if (maxDelay < initialDelay) throw new RangeError('The "reconnect.maxDelay" option must not be less than "reconnect.initialDelay"');
  return { target: options, prefix, maxPendingPublishes, initialDelay, maxDelay };
}
