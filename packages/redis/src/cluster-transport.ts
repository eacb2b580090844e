import type { Buffer } from 'node:buffer';
import { createCluster, type RedisClusterOptions } from '@redis/client';
import type { ChannelListener, RedisTransport, TransportEvents } from './redis-transport.js';

/** The cluster's events after which readiness may have changed. */
const STATE_EVENTS = ['connect', 'disconnect', 'node-ready', 'node-reconnecting', 'node-disconnect'] as const;

/**
 * Sharded Pub/Sub on a Redis Cluster (Redis 7 or later): a channel lives on the shard that owns
 * its slot, so a message travels to that shard only, instead of over the whole cluster bus as
 * `PUBLISH` does. node-redis routes `SPUBLISH`/`SSUBSCRIBE` by slot, keeps a subscriber
 * connection per shard, and moves a subscription when its slot moves.
 */
export class ClusterTransport implements RedisTransport {
  readonly #cluster: ReturnType<typeof createCluster>;

  constructor(options: Pick<RedisClusterOptions, 'rootNodes' | 'defaults'>, reconnectStrategy: (retries: number) => number, events: TransportEvents) {
    this.#cluster = createCluster({
      rootNodes: options.rootNodes,
      defaults: {
        ...options.defaults,
        socket: { reconnectStrategy, ...options.defaults?.socket },
        disableOfflineQueue: true,
      },
    });
    this.#cluster.on('error', events.error);
    for (const event of STATE_EVENTS) this.#cluster.on(event, events.changed);
  }

  get isReady(): boolean {
    return this.#cluster.isReady;
  }

  get canPublish(): boolean {
    return this.#cluster.isReady;
  }

  async connect(): Promise<void> {
    await this.#cluster.connect();
  }

  publish(channel: string, message: Buffer): Promise<unknown> {
    return this.#cluster.sPublish(channel, message);
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    await this.#cluster.sSubscribe(channel, listener, true);
  }

  async unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    await this.#cluster.sUnsubscribe(channel, listener, true);
  }

  async close(): Promise<void> {
    if (this.#cluster.isReady) await this.#cluster.close();
    else if (this.#cluster.isOpen) this.#cluster.destroy();
  }
}
