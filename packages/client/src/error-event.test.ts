import { describe, expect, test } from 'vitest';
import { ErrorEvent } from './error-event.js';

describe('ErrorEvent', () => {
  test('needs a type (WebIDL argument count) and has length 1', () => {
    expect(ErrorEvent.length).toBe(1);
    expect(() => new (ErrorEvent as unknown as new () => ErrorEvent)()).toThrow(TypeError);
  });

  test('defaults, and the conversion of its members', () => {
    const empty = new ErrorEvent('error');
    expect([empty.message, empty.filename, empty.lineno, empty.colno, empty.error]).toEqual(['', '', 0, 0, null]);
    const cause = new Error('boom');
    const init = { message: 'boom', filename: 'f.js', lineno: 2 ** 32 + 3, colno: '4' as unknown as number, error: cause };
    const event = new ErrorEvent('error', init);
    expect([event.message, event.filename, event.lineno, event.colno, event.error]).toEqual(['boom', 'f.js', 3, 4, cause]);
    expect(() => new ErrorEvent('error', true as unknown as undefined)).toThrow(TypeError);
  });

  test('stringifies as [object ErrorEvent]; its attributes are enumerable accessors', () => {
    expect(String(new ErrorEvent('error'))).toBe('[object ErrorEvent]');
    for (const name of ['message', 'filename', 'lineno', 'colno', 'error']) {
      expect(Object.getOwnPropertyDescriptor(ErrorEvent.prototype, name)).toMatchObject({ enumerable: true, configurable: true });
    }
  });
});
