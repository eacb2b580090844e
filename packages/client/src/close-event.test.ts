import { describe, expect, test } from 'vitest';
import { CloseEvent } from './close-event.js';

describe('CloseEvent', () => {
  test('needs a type (WebIDL argument count) and has length 1', () => {
    expect(CloseEvent.length).toBe(1);
    expect(() => new (CloseEvent as unknown as new () => CloseEvent)()).toThrow(TypeError);
    expect(() => (CloseEvent as unknown as () => void)()).toThrow(TypeError);
  });

  test('defaults: code 0, reason "", wasClean false', () => {
    const event = new CloseEvent('close');
    expect([event.type, event.code, event.reason, event.wasClean, event.bubbles, event.cancelable]).toEqual(['close', 0, '', false, false, false]);
    expect(event).toBeInstanceOf(Event);
  });

  test('converts its init dictionary as WebIDL does', () => {
    const init = { code: 70_000, reason: 'a\uD800', wasClean: 1 as unknown as boolean, bubbles: true, cancelable: true };
    const event = new CloseEvent('close', init);
    // unsigned short is modulo 2^16 without [Clamp]; USVString replaces a lone surrogate.
    expect([event.code, event.reason, event.wasClean, event.bubbles, event.cancelable]).toEqual([4464, 'a\uFFFD', true, true, true]);
    expect(new CloseEvent('close', { code: -1 }).code).toBe(65_535);
    expect(new CloseEvent('close', { code: Number.NaN }).code).toBe(0);
    expect(new CloseEvent('close', null as unknown as undefined).code).toBe(0);
    expect(() => new CloseEvent('close', 5 as unknown as undefined)).toThrow(TypeError);
    expect(() => new CloseEvent('close', { code: Symbol('code') as unknown as number })).toThrow(TypeError);
    expect(new CloseEvent({ toString: () => 'custom' } as unknown as string).type).toBe('custom');
  });

  test('stringifies as [object CloseEvent]; its attributes are enumerable accessors', () => {
    expect(String(new CloseEvent('close'))).toBe('[object CloseEvent]');
    for (const name of ['code', 'reason', 'wasClean']) {
      const descriptor = Object.getOwnPropertyDescriptor(CloseEvent.prototype, name)!;
      expect(descriptor).toMatchObject({ enumerable: true, configurable: true, set: undefined });
      expect(descriptor.get!.name).toBe(`get ${name}`);
      expect(() => descriptor.get!.call(new Event('close'))).toThrow(TypeError);
    }
  });

  test('can be dispatched', () => {
    const target = new EventTarget();
    let received: unknown;
    target.addEventListener('close', (event) => (received = event));
    const event = new CloseEvent('close', { code: 1000 });
    target.dispatchEvent(event);
    expect(received).toBe(event);
  });
});
