import { describe, expect, it } from 'vitest';
import { formatHeaderFields, isValidHeaderValue } from './outgoing-headers.js';

describe('isValidHeaderValue', () => {
  it('accepts visible ASCII, SP and HTAB', () => {
    expect(isValidHeaderValue('')).toBe(true);
    expect(isValidHeaderValue('a b\tc ~!"#')).toBe(true);
  });

  it.each(['\r', '\n', 'a\r\nb', '\u0000', '\u007f', '\u0085', '\u00e9', '\u2028', '\u560a', '\ud83d\ude00'])(
    'rejects %j',
    (value) => {
      expect(isValidHeaderValue(value)).toBe(false);
    },
  );
});

describe('formatHeaderFields', () => {
  it('writes one line per value and nothing for no headers', () => {
    expect(formatHeaderFields({ 'X-A': '1', 'x-b': ['2', '3'] }, new Set(), 'headers')).toBe(
      'X-A: 1\r\nx-b: 2\r\nx-b: 3\r\n',
    );
    expect(formatHeaderFields(undefined, new Set(), 'headers')).toBe('');
    expect(formatHeaderFields({}, new Set(), 'headers')).toBe('');
  });

  it('refuses reserved names in any case, bad names and unsafe values', () => {
    const reserved = new Set(['upgrade']);
    expect(() => formatHeaderFields({ UpGrade: 'x' }, reserved, 'headers')).toThrow(TypeError);
    expect(() => formatHeaderFields({ 'a:b': 'x' }, reserved, 'headers')).toThrow(TypeError);
    expect(() => formatHeaderFields({ a: 'x\r\n' }, reserved, 'headers')).toThrow(TypeError);
    expect(() => formatHeaderFields({ a: [1] as unknown as string[] }, reserved, 'options')).toThrow(
      /"options"/,
    );
  });
});
