import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Adapter, DeliverRemote, PublishFlags } from '@ws/server';
import { ClusterTransport } from './cluster-transport.js';
import { decodeEnvelope, encodeEnvelope, ORIGIN_ID_LENGTH } from './message-envelope.js';
import { reconnectBackoff } from './reconnect-backoff.js';
import { type RedisAdapterOptions, type ResolvedRedisAdapterOptions, resolveRedisAdapterOptions } from './redis-adapter-options.js';
import type { RedisTransport } from './redis-transport.js';
import { StandaloneTransport } from './standalone-transport.js';

/** The events of a {@link RedisAdapter}, for typed `on`/`once`. */
export interface RedisAdapterEvents {
  /** A Redis connection reported an error (refused, reset, a failed command). Emitted only with a listener. */
  error: [error: Error];
  /** Redis went away: publishes are dropped (local delivery goes on) until `'ready'`. */
  outage: [];
  /** Every connection is ready and the subscriptions are restored (at the start too). */
  ready: [];
}

/**
 * Shares a server's topics with the other processes and machines on one Redis, or on a Redis
 * Cluster with sharded Pub/Sub. Each topic is the Redis channel `prefix + topic`, subscribed to
 * only while this process has a local subscriber; each message carries this adapter's origin
 * id and the message flags in a small binary header before the payload, so a process drops its
 * own messages and binary payloads cross unchanged.
 *
 * While Redis is away, local delivery goes on, publishes are dropped and counted
 * (`droppedPublishes`) instead of queued, the connections reconnect with exponential backoff
 * and jitter, and the subscriptions, including those made meanwhile, are restored.
 */
export class RedisAdapter extends EventEmitter<RedisAdapterEvents> implements Adapter {
  /** The origin id in every message this adapter publishes. */
  readonly id: Buffer = randomBytes(ORIGIN_ID_LENGTH);
  readonly #options: ResolvedRedisAdapterOptions;
  readonly #prefixLength: number;
  readonly #transport: RedisTransport;
  #deliver: DeliverRemote | undefined;
  /** The topics this process has local subscribers for: what Redis must be subscribed to. */
  readonly #topics = new Set<string>();
  /** Topics left while Redis was away: the client may still hold them, to drop on reconnecting. */
  readonly #leftWhileAway = new Set<string>();
  #pending = 0;
  #outages = 0;
  #dropped = 0;
  #ready = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisAdapterOptions) {
    super();
    this.#options = resolveRedisAdapterOptions(options);
    this.#prefixLength = Buffer.byteLength(this.#options.prefix);
    const { target, initialDelay, maxDelay } = this.#options;
    const strategy = reconnectBackoff(initialDelay, maxDelay);
    const events = { error: this.#reportError, changed: this.#stateChanged };
    this.#transport =
      target.cluster !== undefined ? new ClusterTransport(target.cluster, strategy, events) : new StandaloneTransport(target, strategy, events);
    this.#transport.connect().catch(this.#reportError);
  }

  /** Whether Redis is reachable: publishes go out and subscriptions are in place. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** How many times the adapter lost Redis since it was created. */
  get outages(): number {
    return this.#outages;
  }

  /** Publishes not sent to Redis: made while it was away, past `maxPendingPublishes`, or failed. */
  get droppedPublishes(): number {
    return this.#dropped;
  }

  /** Resolves once Redis is reachable (now, or at the next `'ready'`). */
  whenReady(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    return new Promise((resolve) => this.once('ready', resolve));
  }

  attach(deliver: DeliverRemote): void {
    if (this.#deliver !== undefined) throw new Error('A RedisAdapter serves one server');
    this.#deliver = deliver;
  }

  subscribe(topic: string): void {
    this.#topics.add(topic);
    this.#leftWhileAway.delete(topic);
    // Refused while Redis is away (nothing is queued): made again once it is back.
    this.#transport.subscribe(this.#options.prefix + topic, this.#onMessage).catch(this.#reportError);
  }

  unsubscribe(topic: string): void {
    this.#topics.delete(topic);
    if (!this.#ready) this.#leftWhileAway.add(topic);
    this.#transport.unsubscribe(this.#options.prefix + topic, this.#onMessage).catch(this.#reportError);
  }

  publish(topic: string, payload: Buffer, flags: PublishFlags): void {
    if (this.#closing !== undefined) return;
    if (!this.#transport.canPublish || this.#pending >= this.#options.maxPendingPublishes) {
      this.#dropped++;
      return;
    }
    this.#pending++;
    // The envelope is a copy: the caller's buffer is not kept.
    this.#transport.publish(this.#options.prefix + topic, encodeEnvelope(this.id, payload, flags)).then(
      () => {
        this.#pending--;
      },
      (error: unknown) => {
        this.#pending--;
        this.#dropped++;
        this.#reportError(error);
      },
    );
  }

  /** Closes the connections the adapter created (a client given to it stays open). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#deliver = undefined;
      try {
        await this.#transport.close();
      } catch (error) {
        this.#reportError(error);
      }
    })();
    return this.#closing;
  }

  readonly #onMessage = (message: Buffer, channel: Buffer): void => {
    const envelope = decodeEnvelope(message);
    // Not in our format (another application on the channel), or our own message back.
    if (envelope === undefined || envelope.origin.equals(this.id)) return;
    this.#deliver?.(channel.toString('utf8', this.#prefixLength), envelope.payload, envelope.flags);
  };

  readonly #stateChanged = (): void => {
    const ready = this.#transport.isReady;
    if (ready === this.#ready || this.#closing !== undefined) return;
    this.#ready = ready;
    if (ready) {
      void this.#restoreSubscriptions().then(() => {
        if (this.#ready && this.#closing === undefined) this.emit('ready');
      });
    } else {
      this.#outages++;
      this.emit('outage');
    }
  };

  /**
   * Redis is back: the client restores the subscriptions it made, and this brings it in line
   * with the local subscribers, joined or left while Redis was away (a subscribing command then
   * failed instead of waiting in an unbounded queue). Subscribing to a channel the client
   * already has is a no-op, so nothing is subscribed twice.
   */
  async #restoreSubscriptions(): Promise<void> {
    const { prefix } = this.#options;
    const left = [...this.#leftWhileAway];
    this.#leftWhileAway.clear();
    await Promise.all([
      ...[...this.#topics].map((topic) => this.#transport.subscribe(prefix + topic, this.#onMessage).catch(this.#reportError)),
      ...left.map((topic) => this.#transport.unsubscribe(prefix + topic, this.#onMessage).catch(this.#reportError)),
    ]);
  }

  readonly #reportError = (error: unknown): void => {
    if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
  };
}
