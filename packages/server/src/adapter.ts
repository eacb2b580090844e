import type { Buffer } from 'node:buffer';

/** How a published message is to be sent; it travels with the message to the other processes. */
export interface PublishFlags {
  /** A binary message (else text: the payload is UTF-8). */
  readonly binary: boolean;
  /** False: sent uncompressed even where permessage-deflate was agreed. */
  readonly compress: boolean;
}

/** What an adapter calls with a message published in another process: the server frames it once for its subscribers. */
export type DeliverRemote = (topic: string, payload: Buffer, flags: PublishFlags) => void;

/**
 * Carries publishes between the processes that serve the same topics (`ClusterAdapter` on one
 * machine, `@ws/redis` across machines). A server given one (`new WebSocketServer({ adapter })`)
 * makes these calls, and an adapter serves one server:
 *
 * - `attach(deliver)`, once, from the server's constructor: `deliver` is how the adapter hands
 *   the server the messages published elsewhere.
 * - `subscribe(topic)` when the first local connection subscribes to `topic`, and
 *   `unsubscribe(topic)` when the last one leaves (by `unsubscribe` or by closing): an adapter
 *   asks its transport only for topics this process has subscribers for.
 * - `publish(topic, payload, flags)` after every `server.publish`, once its local subscribers
 *   were written to. The payload may be the caller's own buffer: copy it to keep it past the call.
 * - `close()` from `server.close()`. The server makes no call after it and ignores `deliver`
 *   from then on. It should not reject: report failures on the adapter's own channel.
 *
 * What an adapter promises in return: `deliver` is called only for messages published by other
 * processes (never for the server's own: those were delivered locally already), once per
 * message per process however many local subscribers it has, in the order each publisher
 * published them on a topic. Delivery is at most once: a message published while a transport
 * is down, or before a remote subscription took effect, may be lost, never duplicated.
 * The methods do not throw: they run inside the application's `subscribe` and `publish` calls.
 */
export interface Adapter {
  attach(deliver: DeliverRemote): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, payload: Buffer, flags: PublishFlags): void;
  close(): Promise<void>;
}

const METHODS = ['attach', 'subscribe', 'unsubscribe', 'publish', 'close'] as const;

/** The `adapter` option, checked: undefined or an object with every method of {@link Adapter}. */
export function adapterOption(value: unknown): Adapter | undefined {
  if (value === undefined) return undefined;
  const candidate = value as Partial<Record<(typeof METHODS)[number], unknown>> | null;
  const missing = typeof value === 'object' && candidate !== null ? METHODS.filter((name) => typeof candidate[name] !== 'function') : METHODS;
  if (missing.length > 0) {
    throw new TypeError(`The "adapter" option must be an object with the methods ${METHODS.join(', ')}; missing ${missing.join(', ')}`);
  }
  return value as Adapter;
}
