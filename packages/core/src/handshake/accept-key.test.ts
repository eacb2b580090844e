import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeAcceptKey, isValidKey } from './accept-key.js';

describe('computeAcceptKey', () => {
  it('gives the RFC 6455 §1.3 example', () => {
    // RFC 6455 §1.3: for the key "dGhlIHNhbXBsZSBub25jZQ==", the hash of key and GUID "is then
    // base64-encoded (see Section 4 of [RFC4648]), to give the value "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="".
    expect(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('hashes the key as the string received, not base64-decoded', () => {
    expect(computeAcceptKey('x3JJHMbDL1EzLkh9GBhXDw==')).toBe('HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
    expect(computeAcceptKey('AAAAAAAAAAAAAAAAAAAAAA==')).not.toBe(computeAcceptKey('AAAAAAAAAAAAAAAAAAAAAB=='));
  });

  it('is a base64 SHA-1 digest (28 characters)', () => {
    const accept = computeAcceptKey('AQIDBAUGBwgJCgsMDQ4PEA==');
    expect(accept).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    expect(Buffer.from(accept, 'base64')).toHaveLength(createHash('sha1').digest().length);
  });
});

describe('isValidKey', () => {
  it.each(['dGhlIHNhbXBsZSBub25jZQ==', 'AAAAAAAAAAAAAAAAAAAAAA==', '++++//////////////0123==', 'zZ9+/aAbBcCdDeEfFgGhHw=='])(
    'accepts %j',
    (key) => {
      expect(isValidKey(key)).toBe(true);
      expect(Buffer.from(key, 'base64')).toHaveLength(16);
    },
  );

  it.each([
    ['empty', ''],
    ['without padding', 'dGhlIHNhbXBsZSBub25jZQ'],
    ['with one "="', 'dGhlIHNhbXBsZSBub25jZQA='],
    ['15 bytes', 'dGhlIHNhbXBsZSBub25j'],
    ['17 bytes', 'dGhlIHNhbXBsZSBub25jZQE='],
    ['32 characters', 'dGhlIHNhbXBsZSBub25jZQdGhlIHNh=='],
    ['URL-safe alphabet', 'dGhlIHNhbXBsZSBub25j-_=='],
    ['a space inside', 'dGhlIHNhbXBsZSBub25j ZQ=='],
    ['leading whitespace', ' GhlIHNhbXBsZSBub25jZQ=='],
    ['"=" inside', 'dGhlIHNhbXBsZSB=b25jZQ=='],
    ['non-ASCII', 'dGhlIHNhbXBsZSBub25jZé=='],
  ])('rejects a key %s', (_description, key) => {
    expect(isValidKey(key)).toBe(false);
  });
});
