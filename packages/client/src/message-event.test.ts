import { MessageChannel } from 'node:worker_threads';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { MessageEvent } from './message-event.js';

describe('MessageEvent', () => {
  test('needs a type (WebIDL argument count) and has length 1', () => {
    expect(MessageEvent.length).toBe(1);
    expect(() => new (MessageEvent as unknown as new () => MessageEvent)()).toThrow(TypeError);
  });

  test('defaults: data null, origin and lastEventId "", source null, no ports', () => {
    const event = new MessageEvent('message');
    expect([event.data, event.origin, event.lastEventId, event.source, event.ports]).toEqual([null, '', '', null, []]);
    expect(Object.isFrozen(event.ports)).toBe(true);
    expect(event.ports).toBe(event.ports);
    expect(event).toBeInstanceOf(Event);
  });

  test('takes data of any type and converts the other members', () => {
    const data = { any: 'thing' };
    const event = new MessageEvent('message', { data, origin: 'ws://h\uDC00', lastEventId: 7 as unknown as string });
    expect(event.data).toBe(data);
    expect(event.origin).toBe('ws://h\uFFFD');
    expect(event.lastEventId).toBe('7');
    expect(new MessageEvent('message', { data: undefined }).data).toBeNull();
  });

  test('source must be a MessagePort, ports an iterable of them (a FrozenArray)', () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const event = new MessageEvent('message', { source: port1, ports: new Set([port1, port2]) });
      expect(event.source).toBe(port1);
      expect(event.ports).toEqual([port1, port2]);
      expect(Object.isFrozen(event.ports)).toBe(true);
      expect(() => new MessageEvent('message', { source: {} as never })).toThrow(TypeError);
      expect(() => new MessageEvent('message', { ports: [{}] as never })).toThrow(TypeError);
      expect(() => new MessageEvent('message', { ports: port1 as never })).toThrow(TypeError);
    } finally {
      port1.close();
      port2.close();
    }
  });

  test('stringifies as [object MessageEvent], unlike Node 20’s global; its attributes are enumerable accessors', () => {
    expect(Object.prototype.toString.call(new MessageEvent('message'))).toBe('[object MessageEvent]');
    for (const name of ['data', 'origin', 'lastEventId', 'source', 'ports']) {
      const descriptor = Object.getOwnPropertyDescriptor(MessageEvent.prototype, name)!;
      expect(descriptor).toMatchObject({ enumerable: true, configurable: true, set: undefined });
      expect(() => descriptor.get!.call(new Event('message'))).toThrow(TypeError);
    }
  });

  test('data is any by default, or the type given', () => {
    expectTypeOf(new MessageEvent('message').data).toBeAny();
    expectTypeOf(new MessageEvent<string>('message', { data: 'x' }).data).toEqualTypeOf<string>();
  });
});
