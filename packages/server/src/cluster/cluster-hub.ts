import cluster, { type Worker } from 'node:cluster';
import { CLUSTER_MESSAGE_KEY, type ClusterMessage, clusterMessageType } from './cluster-message.js';

/** Marks the cluster object while a hub runs: two hubs would forward every message twice. */
const kHubRunning = Symbol.for('@ws/server.clusterHubRunning');

function ignoreSendError(): void {
  // A worker that exits while a message is on its way: the 'exit' listener drops it.
}

/**
 * The primary's side of `ClusterAdapter`: it knows which workers have subscribers for which
 * topics (they say so as their first subscriber joins and their last one leaves) and forwards
 * each publish to the other workers subscribed to its topic, once per worker and never back
 * to the publisher. Messages from one worker are read, and forwarded, in the order it sent
 * them, so each publisher's order holds per topic. Create it with `ClusterAdapter.hub()`.
 */
export class ClusterHub {
  readonly #workers = new Map<string, Set<Worker>>();
  readonly #topicsOf = new Map<Worker, Set<string>>();
  #closed = false;

  constructor() {
    if (!cluster.isPrimary) throw new Error('ClusterAdapter.hub() runs in the cluster primary; workers use new ClusterAdapter()');
    const marked = cluster as unknown as Record<symbol, boolean | undefined>;
    if (marked[kHubRunning] === true) throw new Error('A ClusterAdapter hub already runs in this process');
    marked[kHubRunning] = true;
    cluster.on('message', this.#onMessage);
    cluster.on('exit', this.#forget);
  }

  /** How many workers have subscribers for `topic`. */
  workers(topic: string): number {
    return this.#workers.get(topic)?.size ?? 0;
  }

  /** Stops forwarding (the workers' adapters keep working locally). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    cluster.off('message', this.#onMessage);
    cluster.off('exit', this.#forget);
    (cluster as unknown as Record<symbol, boolean | undefined>)[kHubRunning] = false;
    this.#workers.clear();
    this.#topicsOf.clear();
  }

  readonly #onMessage = (worker: Worker, message: unknown): void => {
    const type = clusterMessageType(message);
    if (type === undefined) return;
    const ours = message as ClusterMessage & Record<string, unknown>;
    switch (type) {
      case 'hello':
        this.#send(worker, { [CLUSTER_MESSAGE_KEY]: 'welcome', advanced: cluster.settings.serialization === 'advanced' });
        break;
      case 'subscribe':
        if (typeof ours['topic'] === 'string') this.#subscribe(worker, ours['topic']);
        break;
      case 'unsubscribe':
        if (typeof ours['topic'] === 'string') this.#unsubscribe(worker, ours['topic']);
        break;
      case 'leave':
        this.#forget(worker);
        break;
      case 'publish': {
        if (typeof ours['topic'] !== 'string') return;
        const subscribed = this.#workers.get(ours['topic']);
        if (subscribed === undefined) return;
        // The same object to every worker: each send serializes it for its own channel.
        for (const other of subscribed) if (other !== worker) this.#send(other, ours);
        break;
      }
      default:
        break;
    }
  };

  #send(worker: Worker, message: ClusterMessage): void {
    if (worker.isConnected()) worker.send(message, undefined, ignoreSendError);
  }

  #subscribe(worker: Worker, topic: string): void {
    let workers = this.#workers.get(topic);
    if (workers === undefined) {
      workers = new Set();
      this.#workers.set(topic, workers);
    }
    workers.add(worker);
    let topics = this.#topicsOf.get(worker);
    if (topics === undefined) {
      topics = new Set();
      this.#topicsOf.set(worker, topics);
    }
    topics.add(topic);
  }

  #unsubscribe(worker: Worker, topic: string): void {
    const workers = this.#workers.get(topic);
    if (workers?.delete(worker) === true && workers.size === 0) this.#workers.delete(topic);
    const topics = this.#topicsOf.get(worker);
    if (topics?.delete(topic) === true && topics.size === 0) this.#topicsOf.delete(worker);
  }

  /** A worker that exited, or whose adapter closed, has no subscribers left. */
  readonly #forget = (worker: Worker): void => {
    const topics = this.#topicsOf.get(worker);
    if (topics === undefined) return;
    for (const topic of [...topics]) this.#unsubscribe(worker, topic);
  };
}
