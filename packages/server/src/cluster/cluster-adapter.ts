import type { Buffer } from 'node:buffer';
import cluster from 'node:cluster';
import type { Adapter, DeliverRemote, PublishFlags } from '../adapter.js';
import { ClusterHub } from './cluster-hub.js';
import { CLUSTER_MESSAGE_KEY, type ClusterMessage, clusterMessageType, decodePayload, encodePayload } from './cluster-message.js';

/**
 * Shares topics between the workers of a `node:cluster` over its IPC channels, with no
 * dependency: each worker's server gets `new ClusterAdapter()`, and the primary runs the hub
 * (`ClusterAdapter.hub()`) that forwards each publish to the other workers with subscribers for
 * its topic. A message crosses to each such worker once, however many subscribers it has there,
 * and never comes back to the worker that published it.
 *
 * Payloads are binary-safe under either IPC serialization: raw bytes when the primary chose
 * `serialization: 'advanced'` (faster for large messages), base64 under Node's default `json`
 * (faster for small ones). Until the hub has said which one the channel uses, base64.
 */
export class ClusterAdapter implements Adapter {
  #deliver: DeliverRemote | undefined;
  #advanced = false;
  #closed = false;

  constructor() {
    if (!cluster.isWorker || typeof process.send !== 'function') {
      throw new Error('new ClusterAdapter() runs in a cluster worker; the primary runs ClusterAdapter.hub()');
    }
  }

  /** Starts the hub in the cluster primary (once per primary, before or after forking the workers). */
  static hub(): ClusterHub {
    return new ClusterHub();
  }

  attach(deliver: DeliverRemote): void {
    if (this.#deliver !== undefined) throw new Error('A ClusterAdapter serves one server');
    this.#deliver = deliver;
    process.on('message', this.#onMessage);
    this.#send({ [CLUSTER_MESSAGE_KEY]: 'hello' });
  }

  subscribe(topic: string): void {
    this.#send({ [CLUSTER_MESSAGE_KEY]: 'subscribe', topic });
  }

  unsubscribe(topic: string): void {
    this.#send({ [CLUSTER_MESSAGE_KEY]: 'unsubscribe', topic });
  }

  publish(topic: string, payload: Buffer, flags: PublishFlags): void {
    // `process.send` serializes the message now: the caller's buffer is not kept.
    const encoded = encodePayload(payload, this.#advanced);
    this.#send({ [CLUSTER_MESSAGE_KEY]: 'publish', topic, payload: encoded, binary: flags.binary, compress: flags.compress });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#send({ [CLUSTER_MESSAGE_KEY]: 'leave' });
      process.off('message', this.#onMessage);
    }
    return Promise.resolve();
  }

  #send(message: ClusterMessage): void {
    // Once the primary is gone the channel is closed: there is no one left to share with.
    if (process.connected) process.send!(message, undefined, undefined, ignoreSendError);
  }

  readonly #onMessage = (message: unknown): void => {
    const type = clusterMessageType(message);
    if (type === 'welcome') {
      this.#advanced = (message as { advanced?: unknown }).advanced === true;
      return;
    }
    if (type !== 'publish' || this.#closed) return;
    const { topic, payload, binary, compress } = message as Record<string, unknown>;
    const bytes = decodePayload(payload);
    if (typeof topic !== 'string' || bytes === undefined) return;
    this.#deliver?.(topic, bytes, { binary: binary === true, compress: compress !== false });
  };
}

function ignoreSendError(): void {
  // The channel closed while the message was on its way (the primary exited): nothing to do.
}
