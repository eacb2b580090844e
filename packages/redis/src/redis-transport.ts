import type { Buffer } from 'node:buffer';

/** Receives every message of every subscribed channel, as bytes. */
export type ChannelListener = (message: Buffer, channel: Buffer) => void;

/**
 * The Redis side of the adapter, one per form of deployment: Pub/Sub on one Redis
 * (`PUBLISH`/`SUBSCRIBE`, on a connection of its own for subscriptions), sharded Pub/Sub on a
 * Redis Cluster (`SPUBLISH`/`SSUBSCRIBE`, to the shard that owns the channel's slot). The node-redis
 * client keeps the subscriptions and restores them after a reconnection.
 */
export interface RedisTransport {
  /** Whether every connection is ready: publishing and subscriptions both work. */
  readonly isReady: boolean;
  /** Whether a publish would be written to Redis now (nothing is queued while it is away). */
  readonly canPublish: boolean;
  /** Connects what the adapter created (a client given to it is connected if it is not yet). */
  connect(): Promise<void>;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: ChannelListener): Promise<void>;
  unsubscribe(channel: string, listener: ChannelListener): Promise<void>;
  /** Closes what the adapter created; a client given to it stays open. */
  close(): Promise<void>;
}

/** What a transport tells the adapter about its connections. */
export interface TransportEvents {
  error(error: Error): void;
  /** A connection became ready or stopped being ready. */
  changed(): void;
}
