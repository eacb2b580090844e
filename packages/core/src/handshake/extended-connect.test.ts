import { describe, expect, it } from 'vitest';
import { HandshakeError } from '../errors/handshake-error.js';
import { buildExtendedConnectRequest, validateExtendedConnectResponse } from './extended-connect-client.js';
import { buildExtendedConnectResponse, isWebSocketConnect, validateExtendedConnectRequest } from './extended-connect-server.js';

const request = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat?room=1',
  ':authority': 'example.com',
  'sec-websocket-version': '13',
  'sec-websocket-protocol': 'chat, superchat',
  'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
  origin: 'https://example.com',
};

function refusal(headers: Record<string, string | undefined>): HandshakeError {
  try {
    validateExtendedConnectRequest({ headers });
  } catch (error) {
    if (error instanceof HandshakeError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('validateExtendedConnectRequest (RFC 8441 §4, §5)', () => {
  it('reads subprotocols, extensions and origin from the example request of §5.1, with no key', () => {
    const validated = validateExtendedConnectRequest({ headers: request });
    expect(validated.protocols).toEqual(['chat', 'superchat']);
    expect(validated.extensions.map((offer) => offer.name)).toEqual(['permessage-deflate']);
    expect(validated.origin).toBe('https://example.com');
  });

  it('recognizes :protocol websocket case-insensitively, only on CONNECT', () => {
    expect(isWebSocketConnect({ ...request, ':protocol': 'WebSocket' })).toBe(true);
    expect(isWebSocketConnect({ ...request, ':method': 'GET' })).toBe(false);
    expect(isWebSocketConnect({ ...request, ':protocol': 'webtransport' })).toBe(false);
  });

  it('refuses a bad or missing version with 400 naming version 13, and no Upgrade header', () => {
    for (const version of ['8', undefined]) {
      const error = refusal({ ...request, 'sec-websocket-version': version });
      expect(error.code).toBe('WS_ERR_HANDSHAKE_VERSION');
      expect(error.status).toBe(400);
      expect(error.headers).toEqual({ 'sec-websocket-version': '13' });
    }
  });

  it('refuses a request without :path, :scheme or :authority, and one with Connection or Upgrade', () => {
    for (const name of [':path', ':scheme', ':authority']) {
      expect(refusal({ ...request, [name]: undefined }).status).toBe(400);
    }
    expect(refusal({ ...request, upgrade: 'websocket' }).status).toBe(400);
    expect(refusal({ ...request, connection: 'upgrade' }).status).toBe(400);
  });

  it('refuses a repeated subprotocol as over HTTP/1.1', () => {
    expect(refusal({ ...request, 'sec-websocket-protocol': 'chat, chat' }).code).toBe('WS_ERR_HANDSHAKE_HEADER');
  });
});

describe('buildExtendedConnectResponse', () => {
  it('answers 200 with the subprotocol, the extensions and extra headers in lower case', () => {
    expect(buildExtendedConnectResponse({ protocol: 'chat', extensions: 'permessage-deflate', headers: { 'Set-Cookie': ['a=1', 'b=2'] } })).toEqual({
      ':status': 200,
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('throws TypeError for a connection-specific or reserved extra header and an unsafe value', () => {
    expect(() => buildExtendedConnectResponse({ headers: { Connection: 'close' } })).toThrow(TypeError);
    expect(() => buildExtendedConnectResponse({ headers: { 'sec-websocket-accept': 'x' } })).toThrow(TypeError);
    expect(() => buildExtendedConnectResponse({ headers: { 'x-a': 'a\r\nb: c' } })).toThrow(TypeError);
    expect(() => buildExtendedConnectResponse({ protocol: 'a b' })).toThrow(TypeError);
  });
});

describe('buildExtendedConnectRequest / validateExtendedConnectResponse', () => {
  it('builds the request of RFC 8441 §5.1', () => {
    expect(
      buildExtendedConnectRequest({
        scheme: 'https',
        authority: 'server.example.com',
        path: '/chat',
        protocols: ['chat', 'superchat'],
        origin: 'http://www.example.com',
      }),
    ).toEqual({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':authority': 'server.example.com',
      ':path': '/chat',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'chat, superchat',
      origin: 'http://www.example.com',
    });
  });

  it('throws TypeError for a bad path, a repeated subprotocol and a forbidden header', () => {
    const base = { scheme: 'http', authority: 'a', path: '/' } as const;
    expect(() => buildExtendedConnectRequest({ ...base, path: 'chat' })).toThrow(TypeError);
    expect(() => buildExtendedConnectRequest({ ...base, protocols: ['a', 'a'] })).toThrow(TypeError);
    expect(() => buildExtendedConnectRequest({ ...base, headers: { upgrade: 'websocket' } })).toThrow(TypeError);
  });

  it('accepts a 200 with an offered subprotocol; fails other statuses and unoffered answers', () => {
    const offered = { protocols: ['chat'], offeredExtensions: [] };
    expect(validateExtendedConnectResponse({ statusCode: 200, headers: { ':status': '200', 'sec-websocket-protocol': 'chat' } }, offered).protocol).toBe('chat');
    expect(() => validateExtendedConnectResponse({ statusCode: 404, headers: {} }, offered)).toThrow(
      expect.objectContaining({ code: 'WS_ERR_HANDSHAKE_STATUS', status: 404 }),
    );
    expect(() => validateExtendedConnectResponse({ statusCode: 200, headers: { 'sec-websocket-protocol': 'other' } }, offered)).toThrow(
      expect.objectContaining({ code: 'WS_ERR_HANDSHAKE_PROTOCOL' }),
    );
    expect(() => validateExtendedConnectResponse({ statusCode: 200, headers: { 'sec-websocket-extensions': 'permessage-deflate' } }, offered)).toThrow(
      expect.objectContaining({ code: 'WS_ERR_HANDSHAKE_EXTENSION' }),
    );
  });
});
