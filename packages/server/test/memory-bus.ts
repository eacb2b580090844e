import { Buffer } from 'node:buffer';
import type { Adapter, DeliverRemote, PublishFlags } from '../src/index.js';

/**
 * Adapters linked in one process, for tests of the adapter seam: a publish reaches every other
 * member whose server has subscribers for the topic, in order, and each adapter records the
 * calls its server made.
 */
export class MemoryBus {
  readonly #members = new Set<MemoryAdapter>();

  adapter(): MemoryAdapter {
    const adapter = new MemoryAdapter(this.#members);
    this.#members.add(adapter);
    return adapter;
  }
}

export class MemoryAdapter implements Adapter {
  /** What the server called, in order: `subscribe news`, `publish news`, `close`, ... */
  readonly calls: string[] = [];
  readonly published: { topic: string; payload: Buffer; flags: PublishFlags }[] = [];
  readonly topics = new Set<string>();
  deliver: DeliverRemote | undefined;
  readonly #members: Set<MemoryAdapter>;

  constructor(members: Set<MemoryAdapter>) {
    this.#members = members;
  }

  attach(deliver: DeliverRemote): void {
    this.calls.push('attach');
    this.deliver = deliver;
  }

  subscribe(topic: string): void {
    this.calls.push(`subscribe ${topic}`);
    this.topics.add(topic);
  }

  unsubscribe(topic: string): void {
    this.calls.push(`unsubscribe ${topic}`);
    this.topics.delete(topic);
  }

  publish(topic: string, payload: Buffer, flags: PublishFlags): void {
    this.calls.push(`publish ${topic}`);
    // A copy, as a real transport makes: the caller may reuse its buffer.
    const copy = Buffer.from(payload);
    this.published.push({ topic, payload: copy, flags });
    for (const member of this.#members) {
      if (member !== this && member.topics.has(topic)) member.deliver?.(topic, copy, flags);
    }
  }

  close(): Promise<void> {
    this.calls.push('close');
    this.#members.delete(this);
    return Promise.resolve();
  }
}
