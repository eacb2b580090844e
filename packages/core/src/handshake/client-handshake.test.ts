import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { HandshakeErrorCode } from '../errors/error-code.js';
import { HandshakeError } from '../errors/handshake-error.js';
import {
  buildUpgradeRequest,
  generateKey,
  type OfferedHandshake,
  type UpgradeRequestOptions,
  type UpgradeResponse,
  validateUpgradeResponse,
} from './client-handshake.js';
import { formatExtensionOffers } from './header-tokens.js';
import type { IncomingHeaders } from './incoming-headers.js';
import {
  buildAcceptResponse,
  selectSubprotocol,
  validateUpgradeRequest,
} from './server-handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** Splits an HTTP head into its start line and a headers record the way Node's parser builds one. */
function parseHead(head: string): { startLine: string; headers: Record<string, string | string[]> } {
  expect(head.endsWith('\r\n\r\n')).toBe(true);
  const [startLine = '', ...lines] = head.slice(0, -4).split('\r\n');
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (name === 'set-cookie') headers[name] = [...(Array.isArray(previous) ? previous : [previous]), value];
    else headers[name] = `${String(previous)}, ${value}`;
  }
  return { startLine, headers };
}

describe('generateKey', () => {
  it('base64-encodes 16 injected bytes', () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, index) => index + 1);
    const lengths: number[] = [];
    const key = generateKey((length) => {
      lengths.push(length);
      return bytes;
    });
    expect(lengths).toEqual([16]);
    expect(key).toBe('AQIDBAUGBwgJCgsMDQ4PEA==');
  });

  it('reads a view at an offset correctly', () => {
    const backing = new Uint8Array(32).fill(0xff);
    backing.set(Buffer.from(KEY, 'base64'), 8);
    expect(generateKey(() => backing.subarray(8, 24))).toBe(KEY);
  });

  it('gives a valid, fresh key from node:crypto by default', () => {
    const first = generateKey();
    expect(first).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(Buffer.from(first, 'base64')).toHaveLength(16);
    expect(generateKey()).not.toBe(first);
  });

  it('refuses a source that returns the wrong number of bytes', () => {
    expect(() => generateKey(() => new Uint8Array(15))).toThrow(RangeError);
  });
});

describe('buildUpgradeRequest', () => {
  it('writes the RFC 6455 §1.3 example request', () => {
    expect(
      buildUpgradeRequest({
        host: 'server.example.com',
        path: '/chat',
        key: KEY,
        protocols: ['chat', 'superchat'],
        origin: 'http://example.com',
      }),
    ).toBe(
      'GET /chat HTTP/1.1\r\n' +
        'Host: server.example.com\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: chat, superchat\r\n' +
        'Origin: http://example.com\r\n' +
        '\r\n',
    );
  });

  it('writes extensions and extra headers, and leaves out what is not given', () => {
    expect(
      buildUpgradeRequest({
        host: '[::1]:8080',
        path: '/a/b?c=d%20e',
        key: KEY,
        protocols: [],
        extensions: 'permessage-deflate; client_max_window_bits',
        headers: { Authorization: 'Bearer x', Cookie: ['a=1', 'b=2'] },
      }),
    ).toBe(
      'GET /a/b?c=d%20e HTTP/1.1\r\n' +
        'Host: [::1]:8080\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
        'Authorization: Bearer x\r\n' +
        'Cookie: a=1\r\n' +
        'Cookie: b=2\r\n' +
        '\r\n',
    );
  });

  const valid: UpgradeRequestOptions = { host: 'example.com', path: '/', key: KEY };

  it.each<[string, Partial<UpgradeRequestOptions>, string]>([
    ['a path without a leading "/"', { path: 'chat' }, 'path'],
    ['an empty path', { path: '' }, 'path'],
    ['a path with a space', { path: '/a b' }, 'path'],
    ['a path with CR LF', { path: '/\r\nX-Injected: 1' }, 'path'],
    ['a path with a fragment', { path: '/chat#top' }, 'path'],
    ['a path with non-ASCII', { path: '/caf\u00e9' }, 'path'],
    ['an empty host', { host: '' }, 'host'],
    ['a host with CR LF', { host: 'a\r\nX-Injected: 1' }, 'host'],
    ['a host with a space', { host: 'a b' }, 'host'],
    ['an invalid key', { key: 'abc' }, 'key'],
    ['an empty subprotocol', { protocols: [''] }, 'protocols'],
    ['a subprotocol with a space', { protocols: ['a b'] }, 'protocols'],
    ['a subprotocol with a comma', { protocols: ['a,b'] }, 'protocols'],
    ['a subprotocol with CR LF', { protocols: ['a\r\nX: 1'] }, 'protocols'],
    ['a subprotocol outside U+0021-U+007E', { protocols: ['\u00e9'] }, 'protocols'],
    ['a repeated subprotocol', { protocols: ['chat', 'chat'] }, 'protocols'],
    ['extensions with CR LF', { extensions: 'x\r\nX: 1' }, 'extensions'],
    ['extensions that do not parse', { extensions: 'x; a="b c"' }, 'extensions'],
    ['an origin with CR LF', { origin: 'http://a\r\nX: 1' }, 'origin'],
    ['a header value with CR LF', { headers: { 'X-A': 'a\r\nX-B: 1' } }, 'headers'],
    ['a header name that is not a token', { headers: { 'X A': 'a' } }, 'headers'],
    ['a Host header', { headers: { Host: 'evil.example' } }, 'headers'],
    ['a Sec-WebSocket-Key header', { headers: { 'sec-websocket-key': KEY } }, 'headers'],
    ['a Sec-WebSocket-Version header', { headers: { 'Sec-WebSocket-Version': '8' } }, 'headers'],
    ['an Origin header', { headers: { origin: 'http://a' } }, 'headers'],
    ['a Connection header', { headers: { connection: 'close' } }, 'headers'],
  ])('throws TypeError naming %s', (_description, overrides, argumentName) => {
    let thrown: unknown;
    try {
      buildUpgradeRequest({ ...valid, ...overrides });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toContain(`"${argumentName}"`);
  });

  it('accepts every tchar in a subprotocol', () => {
    expect(buildUpgradeRequest({ ...valid, protocols: ["!#$%&'*+-.^_`|~09azAZ"] })).toContain(
      "Sec-WebSocket-Protocol: !#$%&'*+-.^_`|~09azAZ\r\n",
    );
  });
});

describe('validateUpgradeResponse', () => {
  const offered: OfferedHandshake = {
    key: KEY,
    protocols: ['chat', 'superchat'],
    offeredExtensions: ['permessage-deflate'],
  };

  /** The RFC 6455 §1.3 example response, as Node's parser hands it over. */
  function response(headers: IncomingHeaders = {}, statusCode = 101): UpgradeResponse {
    return {
      statusCode,
      headers: {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-accept': ACCEPT,
        ...headers,
      },
    };
  }

  function failureOf(upgradeResponse: UpgradeResponse, offer: OfferedHandshake = offered): HandshakeError {
    try {
      validateUpgradeResponse(upgradeResponse, offer);
    } catch (error) {
      expect(error).toBeInstanceOf(HandshakeError);
      return error as HandshakeError;
    }
    throw new Error('expected the response to be refused');
  }

  function expectFailed(
    upgradeResponse: UpgradeResponse,
    code: HandshakeErrorCode,
    offer: OfferedHandshake = offered,
  ): HandshakeError {
    const error = failureOf(upgradeResponse, offer);
    expect({ code: error.code, status: error.status }).toEqual({ code, status: upgradeResponse.statusCode });
    return error;
  }

  it('accepts the RFC 6455 §1.3 example response', () => {
    expect(validateUpgradeResponse(response({ 'sec-websocket-protocol': 'chat' }), offered)).toEqual({
      protocol: 'chat',
      extensions: [],
    });
  });

  it('accepts a response that selects no subprotocol', () => {
    expect(validateUpgradeResponse(response(), offered)).toEqual({ protocol: undefined, extensions: [] });
  });

  it('returns accepted extensions with their parameters', () => {
    const result = validateUpgradeResponse(
      response({ 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10' }),
      offered,
    );
    expect(result.extensions).toEqual([
      {
        name: 'permessage-deflate',
        params: new Map<string, string | true>([
          ['server_no_context_takeover', true],
          ['client_max_window_bits', '10'],
        ]),
      },
    ]);
  });

  it('compares Upgrade and Connection case-insensitively and ignores whitespace around the accept value', () => {
    expect(
      validateUpgradeResponse(
        response({ upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE', 'sec-websocket-accept': ` ${ACCEPT}\t` }),
        offered,
      ).protocol,
    ).toBeUndefined();
  });

  describe('a status other than 101 (WS_ERR_HANDSHAKE_STATUS)', () => {
    it.each([200, 301, 400, 401, 403, 404, 426, 500, 503])('fails status %i, keeping it and the headers', (status) => {
      const error = expectFailed(
        {
          statusCode: status,
          headers: { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], location: undefined },
        },
        'WS_ERR_HANDSHAKE_STATUS',
      );
      expect(error.headers).toEqual({ 'content-type': 'text/plain', 'set-cookie': 'a=1, b=2' });
      expect(error.message).toContain(String(status));
    });
  });

  describe('Upgrade ("the client MUST _Fail the WebSocket Connection_")', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['another protocol', 'h2c'],
      ['websocket with another protocol', 'websocket, h2c'],
      ['a versioned websocket', 'websocket/13'],
      ['malformed', 'web socket'],
    ])('fails %s', (_description, upgrade) => {
      expectFailed(response({ upgrade }), 'WS_ERR_HANDSHAKE_UPGRADE');
    });
  });

  describe('Connection', () => {
    it.each([
      ['missing', undefined],
      ['without upgrade', 'keep-alive'],
      ['with a near miss', 'upgrades'],
      ['malformed', 'keep-alive upgrade'],
    ])('fails %s', (_description, connection) => {
      expectFailed(response({ connection }), 'WS_ERR_HANDSHAKE_CONNECTION');
    });

    it('accepts upgrade in a repeated field', () => {
      expect(validateUpgradeResponse(response({ connection: ['keep-alive', 'Upgrade'] }), offered).protocol).toBeUndefined();
    });
  });

  describe('Sec-WebSocket-Accept', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['for another key', 'HSmrc0sMlYUkAGmm5OPpG2HaGWk='],
      ['in another case', ACCEPT.toLowerCase()],
      ['repeated', [ACCEPT, ACCEPT]],
      ['the key itself', KEY],
    ])('fails %s', (_description, accept) => {
      expectFailed(response({ 'sec-websocket-accept': accept }), 'WS_ERR_HANDSHAKE_ACCEPT');
    });
  });

  describe('Sec-WebSocket-Protocol', () => {
    it.each([
      ['one that was not offered', 'mqtt'],
      ['one offered, in another case', 'Chat'],
      ['a list of offered ones', 'chat, superchat'],
      ['a repeated field', ['chat', 'chat']],
      ['an empty value', ''],
    ])('fails %s', (_description, protocol) => {
      expectFailed(response({ 'sec-websocket-protocol': protocol }), 'WS_ERR_HANDSHAKE_PROTOCOL');
    });

    it('fails a subprotocol when none was offered', () => {
      const error = expectFailed(response({ 'sec-websocket-protocol': 'chat' }), 'WS_ERR_HANDSHAKE_PROTOCOL', {
        ...offered,
        protocols: [],
      });
      expect(error.message).toContain('none was offered');
    });
  });

  describe('Sec-WebSocket-Extensions', () => {
    it.each([
      ['an extension that was not offered', 'x-webkit-deflate-frame'],
      ['an offered one next to one that was not', 'permessage-deflate, x-foo'],
      ['an extension in another case', 'Permessage-Deflate'],
      ['the same extension twice', 'permessage-deflate, permessage-deflate'],
      ['the same extension twice in two fields', ['permessage-deflate', 'permessage-deflate']],
      ['a malformed value', 'permessage-deflate;'],
      ['a repeated parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ])('fails %s', (_description, extensions) => {
      expectFailed(response({ 'sec-websocket-extensions': extensions }), 'WS_ERR_HANDSHAKE_EXTENSION');
    });

    it('fails any extension when none was offered', () => {
      expectFailed(response({ 'sec-websocket-extensions': 'permessage-deflate' }), 'WS_ERR_HANDSHAKE_EXTENSION', {
        ...offered,
        offeredExtensions: [],
      });
    });

    it('keeps the parser error as the cause of a malformed value', () => {
      const error = failureOf(response({ 'sec-websocket-extensions': 'a;'.repeat(32 * 1024) }));
      expect(error.code).toBe('WS_ERR_HANDSHAKE_EXTENSION');
      expect(error.cause).toBeInstanceOf(HandshakeError);
      expect((error.cause as HandshakeError).code).toBe('WS_ERR_HANDSHAKE_HEADER');
    });
  });
});

describe('client and server handshake together', () => {
  it('a request built here is accepted there, and the answer is accepted back', () => {
    const key = generateKey(() => Uint8Array.from({ length: 16 }, (_, index) => 255 - index));
    const requestHead = buildUpgradeRequest({
      host: '127.0.0.1:8080',
      path: '/chat?room=1',
      key,
      protocols: ['v1.chat', 'v2.chat'],
      extensions: formatExtensionOffers([
        { name: 'permessage-deflate', params: new Map([['client_max_window_bits', true]]) },
      ]),
      origin: 'http://127.0.0.1:3000',
    });
    const { startLine, headers: requestHeaders } = parseHead(requestHead);
    expect(startLine).toBe('GET /chat?room=1 HTTP/1.1');

    const validated = validateUpgradeRequest({ method: 'GET', httpVersion: '1.1', headers: requestHeaders });
    expect(validated).toEqual({
      key,
      protocols: ['v1.chat', 'v2.chat'],
      extensions: [{ name: 'permessage-deflate', params: new Map([['client_max_window_bits', true]]) }],
      origin: 'http://127.0.0.1:3000',
    });

    const protocol = selectSubprotocol(validated.protocols, ['v2.chat', 'v1.chat']);
    const responseHead = buildAcceptResponse({
      key: validated.key,
      protocol,
      extensions: 'permessage-deflate; client_max_window_bits=15',
      headers: { 'Set-Cookie': ['a=1', 'b=2'] },
    });
    const { startLine: statusLine, headers: responseHeaders } = parseHead(responseHead);
    expect(statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(responseHeaders['set-cookie']).toEqual(['a=1', 'b=2']);

    expect(
      validateUpgradeResponse(
        { statusCode: 101, headers: responseHeaders },
        { key, protocols: ['v1.chat', 'v2.chat'], offeredExtensions: ['permessage-deflate'] },
      ),
    ).toEqual({
      protocol: 'v2.chat',
      extensions: [{ name: 'permessage-deflate', params: new Map([['client_max_window_bits', '15']]) }],
    });
  });

  it('an answer for another key is refused', () => {
    const responseHeaders = parseHead(buildAcceptResponse({ key: 'AAAAAAAAAAAAAAAAAAAAAA==' })).headers;
    expect(() =>
      validateUpgradeResponse({ statusCode: 101, headers: responseHeaders }, { key: KEY, protocols: [], offeredExtensions: [] }),
    ).toThrow(expect.objectContaining({ code: 'WS_ERR_HANDSHAKE_ACCEPT' }));
  });
});
