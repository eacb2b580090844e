import { describe, expect, test } from 'vitest';
import { createWebSocketError, WebSocketError } from './web-socket-error.js';

describe('WebSocketError', () => {
  test('is a DOMException named WebSocketError, with length 0', () => {
    const error = new WebSocketError('went wrong');
    expect(error).toBeInstanceOf(DOMException);
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.message, error.closeCode, error.reason]).toEqual(['WebSocketError', 'went wrong', null, '']);
    expect(WebSocketError.length).toBe(0);
    expect(Object.prototype.toString.call(error)).toBe('[object WebSocketError]');
    expect(new WebSocketError().message).toBe('');
  });

  test('carries a close code and reason; a reason alone means 1000', () => {
    expect(new WebSocketError('', { closeCode: 4000, reason: 'game over' })).toMatchObject({ closeCode: 4000, reason: 'game over' });
    expect(new WebSocketError('', { reason: 'done' }).closeCode).toBe(1000);
  });

  test('validates the close code and reason as close() does', () => {
    for (const closeCode of [999, 1001, 1006, 2999, 5000]) {
      expect(() => new WebSocketError('', { closeCode })).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    }
    expect(() => new WebSocketError('', { reason: 'x'.repeat(124) })).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    // [EnforceRange] unsigned short: no NaN, no infinity, nothing out of range.
    for (const closeCode of [Number.NaN, Number.POSITIVE_INFINITY, -1, 65_536]) {
      expect(() => new WebSocketError('', { closeCode })).toThrow(TypeError);
    }
    expect(() => new WebSocketError('', 5 as never)).toThrow(TypeError);
  });

  test('an error made from a connection may carry any code, and its cause', () => {
    const cause = new Error('reset');
    const error = createWebSocketError('closed', 1006, '', cause);
    expect([error.closeCode, error.reason, error.cause]).toEqual([1006, '', cause]);
    expect(createWebSocketError('failed', null, '').closeCode).toBeNull();
    // The next application-made error is validated again.
    expect(() => new WebSocketError('', { closeCode: 1006 })).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
  });

  test('closeCode and reason are enumerable accessors', () => {
    for (const name of ['closeCode', 'reason']) {
      expect(Object.getOwnPropertyDescriptor(WebSocketError.prototype, name)).toMatchObject({ enumerable: true, configurable: true });
    }
  });
});
