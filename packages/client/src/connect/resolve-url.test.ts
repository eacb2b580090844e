import { describe, expect, test } from 'vitest';
import { resolveUrl } from './resolve-url.js';

describe('resolveUrl', () => {
  test('ws: with the default port, path and query preserved', () => {
    const target = resolveUrl('ws://Example.com/chat/room?id=7&x=%20');
    expect(target).toMatchObject({
      secure: false,
      hostname: 'example.com',
      port: 80,
      socketPath: undefined,
      path: '/chat/room?id=7&x=%20',
      hostHeader: 'example.com',
      origin: 'ws://example.com',
    });
    expect(target.url.href).toBe('ws://example.com/chat/room?id=7&x=%20');
  });

  test('wss: defaults to 443 and keeps an explicit port in Host', () => {
    expect(resolveUrl('wss://example.com')).toMatchObject({ secure: true, port: 443, path: '/', hostHeader: 'example.com' });
    expect(resolveUrl('wss://example.com:8443/a')).toMatchObject({ port: 8443, hostHeader: 'example.com:8443' });
  });

  test('http: and https: become ws: and wss:', () => {
    expect(resolveUrl('http://h:80/').url.href).toBe('ws://h/');
    expect(resolveUrl('https://h/x').url.href).toBe('wss://h/x');
    expect(resolveUrl(new URL('https://h:444')).port).toBe(444);
  });

  test('IPv6 literals are unbracketed to connect and bracketed in Host', () => {
    expect(resolveUrl('ws://[::1]:9001/')).toMatchObject({ hostname: '::1', port: 9001, hostHeader: '[::1]:9001' });
    expect(resolveUrl('wss://[2001:db8::1]/')).toMatchObject({ hostname: '2001:db8::1', port: 443, hostHeader: '[2001:db8::1]' });
  });

  test('userinfo is decoded into credentials', () => {
    expect(resolveUrl('ws://user:p%40ss@h/')).toMatchObject({ username: 'user', password: 'p@ss' });
  });

  test('ws+unix: names a socket path and a request path', () => {
    expect(resolveUrl('ws+unix:///tmp/app.sock:/chat?room=1')).toMatchObject({
      socketPath: '/tmp/app.sock',
      path: '/chat?room=1',
      hostHeader: 'localhost',
      secure: false,
    });
    expect(resolveUrl('ws+unix:/tmp/app.sock')).toMatchObject({ socketPath: '/tmp/app.sock', path: '/' });
  });

  test('a relative URL is resolved against a base, whose http: becomes ws:', () => {
    expect(resolveUrl('/chat?room=1', 'https://example.com/app/')).toMatchObject({ secure: true, path: '/chat?room=1' });
    expect(resolveUrl('feed', new URL('http://example.com:8080/app/')).url.href).toBe('ws://example.com:8080/app/feed');
    expect(resolveUrl('wss://other.example/', 'http://example.com/').url.href).toBe('wss://other.example/');
    expect(() => resolveUrl('#top', 'ws://example.com/')).toThrow('fragment');
    expect(() => resolveUrl('/chat')).toThrow('Invalid URL');
  });

  test.each([
    ['not a url', 'Invalid URL'],
    ['ftp://h/', 'Unsupported URL scheme'],
    ['ws://h/#fragment', 'fragment'],
    ['ws://h/#', 'fragment'],
    ['ws+unix:', 'socket path'],
  ])('rejects %s', (input, message) => {
    expect(() => resolveUrl(input)).toThrow(TypeError);
    expect(() => resolveUrl(input)).toThrow(message);
  });
});
