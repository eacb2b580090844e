import { describe, expect, it } from 'vitest';
import { combinedHeaderValue, flattenHeaders, headerValues } from './incoming-headers.js';

describe('incoming headers', () => {
  const headers = { a: 'one', b: ['two', 'three'], c: undefined, d: [] as string[] };

  it('headerValues gives one value per occurrence', () => {
    expect(headerValues(headers, 'a')).toEqual(['one']);
    expect(headerValues(headers, 'b')).toEqual(['two', 'three']);
    expect(headerValues(headers, 'c')).toEqual([]);
    expect(headerValues(headers, 'missing')).toEqual([]);
  });

  it('combinedHeaderValue joins occurrences with ", " (RFC 7230 §3.2.2)', () => {
    expect(combinedHeaderValue(headers, 'a')).toBe('one');
    expect(combinedHeaderValue(headers, 'b')).toBe('two, three');
    expect(combinedHeaderValue(headers, 'c')).toBeUndefined();
    expect(combinedHeaderValue(headers, 'd')).toBeUndefined();
  });

  it('flattenHeaders keeps present fields as strings', () => {
    expect(flattenHeaders(headers)).toEqual({ a: 'one', b: 'two, three' });
  });
});
