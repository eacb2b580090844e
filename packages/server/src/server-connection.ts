import type { Duplex } from 'node:stream';
import { ConnectionState, type Protocol } from '@ws/core';
import { Connection, type ConnectionSetup } from '@ws/core/node';
import { checkTopic } from './check-topic.js';
import { ReadonlySetView } from './readonly-set-view.js';

/** Where a connection's subscriptions are counted: its server's topic registry. */
export interface TopicMembership<Data> {
  join(connection: ServerConnection<Data>, topic: string): void;
  leave(connection: ServerConnection<Data>, topic: string): void;
}

export interface ServerConnectionSetup<Data> extends ConnectionSetup {
  /** What the `authenticate` hook accepted the connection with. */
  readonly data: Data;
  /** The server's topic registry; without one, subscriptions are only recorded on the connection. */
  readonly topics?: TopicMembership<Data> | undefined;
}

/** How the server makes a closed connection leave its topics (under a symbol: not part of its API). */
export const kLeaveTopics: unique symbol = Symbol('serverConnection.leaveTopics');

/**
 * One accepted WebSocket connection: the engine every connection runs on
 * ({@link Connection} of `@ws/core/node`: sending, fragmentation, backpressure, flow control,
 * `messages()`, `ping()`, the closing handshake) plus what only a server has: the `data` its
 * `authenticate` hook accepted it with, the peer's address and the topics it subscribed to. The
 * server's heartbeat and its bookkeeping of open connections are given to the engine when the
 * connection is made.
 */
export class ServerConnection<Data = undefined> extends Connection {
  /** What the `authenticate` hook accepted this connection with. */
  readonly data: Data;
  /** The peer's IP address, as the socket reported it when the connection was accepted. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly #membership: TopicMembership<Data> | undefined;
  /** Allocated on the first subscription and dropped after the last: most connections never subscribe. */
  #topics: Set<string> | undefined;
  #topicsView: ReadonlySetView<string> | undefined;

  constructor(socket: Duplex, protocol: Protocol, setup: ServerConnectionSetup<Data>) {
    super(socket, protocol, setup);
    this.data = setup.data;
    // An HTTP/2 stream's peer is its session's socket.
    const stream = socket as Partial<{ session: { socket?: Partial<{ remoteAddress: string; remotePort: number }> } }>;
    const net = stream.session?.socket ?? (socket as Partial<{ remoteAddress: string; remotePort: number }>);
    this.remoteAddress = net.remoteAddress;
    this.remotePort = net.remotePort;
    this.#membership = setup.topics;
  }

  /** The topics this connection is subscribed to: a live, read-only view. */
  get topics(): ReadonlySet<string> {
    return (this.#topicsView ??= new ReadonlySetView(() => this.#topics));
  }

  /**
   * Subscribes to `topic`: the server's `publish(topic, …)` reaches this connection from now on,
   * until `unsubscribe` or the close. Returns false when it already was subscribed, or is closed.
   */
  subscribe(topic: string): boolean {
    checkTopic(topic);
    // A closed connection has left its topics for good; joining now would keep it in the server's map.
    if (this.readyState === ConnectionState.Closed) return false;
    const topics = (this.#topics ??= new Set());
    if (topics.has(topic)) return false;
    topics.add(topic);
    this.#membership?.join(this, topic);
    return true;
  }

  /** Leaves `topic`. Returns false when the connection was not subscribed to it. */
  unsubscribe(topic: string): boolean {
    checkTopic(topic);
    const topics = this.#topics;
    if (topics === undefined || !topics.delete(topic)) return false;
    if (topics.size === 0) this.#topics = undefined;
    this.#membership?.leave(this, topic);
    return true;
  }

  isSubscribed(topic: string): boolean {
    checkTopic(topic);
    return this.#topics?.has(topic) === true;
  }

  /** The connection closed: it leaves every topic (the server calls this from its close bookkeeping). */
  [kLeaveTopics](): void {
    const topics = this.#topics;
    if (topics === undefined) return;
    this.#topics = undefined;
    for (const topic of topics) this.#membership?.leave(this, topic);
  }
}
