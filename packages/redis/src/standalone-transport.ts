import type { Buffer } from 'node:buffer';
import { createClient } from '@redis/client';
import type { RedisClientLike } from './redis-adapter-options.js';
import type { ChannelListener, RedisTransport, TransportEvents } from './redis-transport.js';

/** The client events after which readiness may have changed. */
const STATE_EVENTS = ['ready', 'end', 'reconnecting'] as const;

/**
 * Pub/Sub on one Redis: a connection to publish on and one of its own to subscribe on (a
 * connection with subscriptions takes no other commands under RESP2, and keeping them apart
 * keeps a burst of publishes from delaying the messages coming in). Neither queues commands
 * while Redis is away: what cannot be sent now is dropped by the adapter, not held.
 */
export class StandaloneTransport implements RedisTransport {
  readonly #publisher: RedisClientLike;
  readonly #subscriber: RedisClientLike;
  readonly #ownsPublisher: boolean;
  readonly #events: TransportEvents;

  constructor(target: { readonly url: string } | { readonly client: RedisClientLike }, reconnectStrategy: (retries: number) => number, events: TransportEvents) {
    this.#events = events;
    if ('url' in target && target.url !== undefined) {
      this.#publisher = createClient({ url: target.url, socket: { reconnectStrategy }, disableOfflineQueue: true }) as unknown as RedisClientLike;
      this.#ownsPublisher = true;
    } else {
      this.#publisher = (target as { readonly client: RedisClientLike }).client;
      this.#ownsPublisher = false;
    }
    this.#subscriber = this.#publisher.duplicate({ disableOfflineQueue: true });
    for (const client of [this.#publisher, this.#subscriber]) {
      client.on('error', events.error);
      for (const event of STATE_EVENTS) client.on(event, events.changed);
    }
  }

  get isReady(): boolean {
    return this.#publisher.isReady && this.#subscriber.isReady;
  }

  get canPublish(): boolean {
    return this.#publisher.isReady;
  }

  async connect(): Promise<void> {
    await Promise.all([this.#publisher.isOpen ? undefined : this.#publisher.connect(), this.#subscriber.connect()]);
  }

  publish(channel: string, message: Buffer): Promise<unknown> {
    return this.#publisher.publish(channel, message);
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    await this.#subscriber.subscribe(channel, listener, true);
  }

  async unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    await this.#subscriber.unsubscribe(channel, listener, true);
  }

  async close(): Promise<void> {
    const closing = [closeClient(this.#subscriber)];
    if (this.#ownsPublisher) closing.push(closeClient(this.#publisher));
    else {
      this.#publisher.off('error', this.#events.error);
      for (const event of STATE_EVENTS) this.#publisher.off(event, this.#events.changed);
    }
    await Promise.all(closing);
  }
}

/** A ready client finishes what it sent; one that is reconnecting (Redis away) is dropped now. */
async function closeClient(client: RedisClientLike): Promise<void> {
  if (client.isReady) await client.close();
  else if (client.isOpen) client.destroy();
}
