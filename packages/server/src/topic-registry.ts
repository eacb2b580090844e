import type { Buffer } from 'node:buffer';
import type { PerMessageDeflate } from '@ws/core';
import { type SendData, toBuffer } from '@ws/core/node';
import type { Adapter, PublishFlags } from './adapter.js';
import { BroadcastMessage, type BroadcastResult, writeToAll } from './broadcast.js';
import { ServerConnection, type TopicMembership } from './server-connection.js';

export interface PublishOptions<Data> {
  /** Send as binary. Default: true for bytes, false for strings. */
  readonly binary?: boolean;
  /** False sends the message uncompressed, even where permessage-deflate was agreed. */
  readonly compress?: boolean;
  /** A local connection (or several) not to send to, typically the publisher. */
  readonly except?: ServerConnection<Data> | Iterable<ServerConnection<Data>>;
}

const NOBODY: BroadcastResult = Object.freeze({ sent: 0, queued: 0, dropped: 0, closed: 0 });

/**
 * The subscribers of each topic in one server: a set of connections per topic, created with the
 * first subscriber and deleted with the last, so memory follows live subscriptions only. A
 * publish frames (and compresses) the message once and writes the same buffers to every
 * subscriber, as a broadcast does. With an adapter, the first subscriber and the last one of a
 * topic subscribe and unsubscribe this process, every publish is handed on, and a message from
 * another process is framed once for the local subscribers.
 */
export class TopicRegistry<Data> implements TopicMembership<Data> {
  readonly #subscribers = new Map<string, Set<ServerConnection<Data>>>();
  readonly #fragmentSize: number;
  readonly #deflateOf: (connection: ServerConnection<Data>) => PerMessageDeflate | undefined;
  /** Until the server closes. */
  #adapter: Adapter | undefined;

  constructor(
    fragmentSize: number,
    deflateOf: (connection: ServerConnection<Data>) => PerMessageDeflate | undefined,
    adapter: Adapter | undefined,
  ) {
    this.#fragmentSize = fragmentSize;
    this.#deflateOf = deflateOf;
    this.#adapter = adapter;
    adapter?.attach(this.#deliverRemote);
  }

  join(connection: ServerConnection<Data>, topic: string): void {
    let subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#subscribers.set(topic, subscribers);
      this.#adapter?.subscribe(topic);
    }
    subscribers.add(connection);
  }

  leave(connection: ServerConnection<Data>, topic: string): void {
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined || !subscribers.delete(connection)) return;
    if (subscribers.size > 0) return;
    this.#subscribers.delete(topic);
    this.#adapter?.unsubscribe(topic);
  }

  /** How many local connections are subscribed to `topic`. */
  count(topic: string): number {
    return this.#subscribers.get(topic)?.size ?? 0;
  }

  publish(topic: string, data: SendData, options: PublishOptions<Data>): BroadcastResult {
    const subscribers = this.#subscribers.get(topic);
    const adapter = this.#adapter;
    if (subscribers === undefined && adapter === undefined) {
      // Nobody to frame it for; a bad `data` is still reported.
      if (typeof data !== 'string') toBuffer(data);
      return NOBODY;
    }
    const message = new BroadcastMessage(data, { binary: options.binary, fragmentSize: this.#fragmentSize });
    const compress = options.compress !== false;
    let result = NOBODY;
    if (subscribers !== undefined) {
      const { except } = options;
      const excluded = except === undefined ? undefined : except instanceof ServerConnection ? new Set([except]) : new Set(except);
      result = this.#write(subscribers, message, compress, excluded);
    }
    adapter?.publish(topic, message.payload, { binary: message.isBinary, compress });
    return result;
  }

  /**
   * The server is closing: the adapter is closed and dropped, so no subscription changes or
   * publishes reach it and its deliveries are ignored from now on.
   */
  closeAdapter(): Promise<void> {
    const adapter = this.#adapter;
    this.#adapter = undefined;
    // A throw becomes a rejection: the server's close reports it once everything else is closed.
    return new Promise((resolve) => resolve(adapter?.close()));
  }

  /** A message from another process: framed once for the local subscribers (none: nothing to do). */
  readonly #deliverRemote = (topic: string, payload: Buffer, flags: PublishFlags): void => {
    if (this.#adapter === undefined) return;
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) return;
    const message = new BroadcastMessage(payload, { binary: flags.binary, fragmentSize: this.#fragmentSize });
    this.#write(subscribers, message, flags.compress, undefined);
  };

  #write(
    subscribers: ReadonlySet<ServerConnection<Data>>,
    message: BroadcastMessage,
    compress: boolean,
    excluded: ReadonlySet<ServerConnection<Data>> | undefined,
  ): BroadcastResult {
    return writeToAll(
      subscribers,
      (connection) => message.sendTo(connection, compress ? this.#deflateOf(connection) : undefined),
      (connection) => excluded?.has(connection) !== true,
    );
  }
}

