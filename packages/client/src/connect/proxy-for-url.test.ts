import { describe, expect, test } from 'vitest';
import { proxyForUrl } from './proxy-for-url.js';
import { resolveUrl } from './resolve-url.js';

const proxyFor = (url: string, environment: Record<string, string>): string | undefined =>
  proxyForUrl(resolveUrl(url), environment)?.href;

describe('proxyForUrl', () => {
  test('ws: uses HTTP_PROXY, wss: prefers HTTPS_PROXY and falls back to HTTP_PROXY', () => {
    const environment = { HTTP_PROXY: 'http://plain:3128', HTTPS_PROXY: 'http://secure:3129' };
    expect(proxyFor('ws://h/', environment)).toBe('http://plain:3128/');
    expect(proxyFor('wss://h/', environment)).toBe('http://secure:3129/');
    expect(proxyFor('wss://h/', { HTTP_PROXY: 'http://plain:3128' })).toBe('http://plain:3128/');
    expect(proxyFor('ws://h/', { HTTPS_PROXY: 'http://secure:3129' })).toBeUndefined();
  });

  test('lower-case names win, a value without a scheme is http://, an empty one is no proxy', () => {
    expect(proxyFor('ws://h/', { http_proxy: 'lower:1', HTTP_PROXY: 'http://upper:2' })).toBe('http://lower:1/');
    expect(proxyFor('ws://h/', { HTTP_PROXY: ' ' })).toBeUndefined();
  });

  test('NO_PROXY matches names, domain suffixes, ports, IP literals and *', () => {
    const base = { HTTP_PROXY: 'http://proxy:1' };
    expect(proxyFor('ws://internal/', { ...base, NO_PROXY: 'internal' })).toBeUndefined();
    expect(proxyFor('ws://a.example.com/', { ...base, NO_PROXY: 'example.com' })).toBeUndefined();
    expect(proxyFor('ws://a.example.com/', { ...base, NO_PROXY: '.example.com' })).toBeUndefined();
    expect(proxyFor('ws://example.com/', { ...base, NO_PROXY: '*.example.com' })).toBeUndefined();
    expect(proxyFor('ws://badexample.com/', { ...base, NO_PROXY: 'example.com' })).toBe('http://proxy:1/');
    expect(proxyFor('ws://h:8080/', { ...base, NO_PROXY: 'h:8080' })).toBeUndefined();
    expect(proxyFor('ws://h:8081/', { ...base, NO_PROXY: 'h:8080' })).toBe('http://proxy:1/');
    expect(proxyFor('ws://127.0.0.1:9/', { ...base, no_proxy: 'localhost, 127.0.0.1' })).toBeUndefined();
    expect(proxyFor('ws://[::1]:9/', { ...base, NO_PROXY: '::1' })).toBeUndefined();
    expect(proxyFor('ws://[::1]:9/', { ...base, NO_PROXY: '[::1]:9' })).toBeUndefined();
    expect(proxyFor('ws://anything/', { ...base, NO_PROXY: '*' })).toBeUndefined();
  });

  test('a Unix socket never goes through a proxy', () => {
    expect(proxyFor('ws+unix:/tmp/s.sock', { HTTP_PROXY: 'http://proxy:1' })).toBeUndefined();
  });
});
