import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { HandshakeErrorCode } from '../errors/error-code.js';
import { HandshakeError } from '../errors/handshake-error.js';
import type { IncomingHeaders } from './incoming-headers.js';
import {
  buildAcceptResponse,
  buildRejectResponse,
  selectSubprotocol,
  type UpgradeRequest,
  validateUpgradeRequest,
} from './server-handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** The RFC 6455 §1.3 example request, as Node's parser hands it over. */
function request(headers: IncomingHeaders = {}, overrides: Partial<UpgradeRequest> = {}): UpgradeRequest {
  const base: Record<string, string | readonly string[] | undefined> = {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    origin: 'http://example.com',
    'sec-websocket-protocol': 'chat, superchat',
    'sec-websocket-version': '13',
  };
  return { method: 'GET', httpVersion: '1.1', headers: { ...base, ...headers }, ...overrides };
}

function rejectionOf(upgradeRequest: UpgradeRequest): HandshakeError {
  try {
    validateUpgradeRequest(upgradeRequest);
  } catch (error) {
    expect(error).toBeInstanceOf(HandshakeError);
    return error as HandshakeError;
  }
  throw new Error('expected the request to be rejected');
}

function expectRejected(upgradeRequest: UpgradeRequest, code: HandshakeErrorCode, status: number): HandshakeError {
  const error = rejectionOf(upgradeRequest);
  expect({ code: error.code, status: error.status }).toEqual({ code, status });
  return error;
}

describe('validateUpgradeRequest', () => {
  it('accepts the RFC 6455 §1.3 example request', () => {
    expect(validateUpgradeRequest(request())).toEqual({
      key: KEY,
      protocols: ['chat', 'superchat'],
      extensions: [],
      origin: 'http://example.com',
    });
  });

  it("takes Node's IncomingHttpHeaders as they are", () => {
    const headers: IncomingHttpHeaders = {
      host: 'h',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': KEY,
      'sec-websocket-version': '13',
    };
    expect(validateUpgradeRequest({ method: 'GET', httpVersion: '1.1', headers })).toEqual({
      key: KEY,
      protocols: [],
      extensions: [],
    });
  });

  it('parses offered extensions, combining repeated fields', () => {
    const result = validateUpgradeRequest(
      request({
        'sec-websocket-extensions': ['permessage-deflate; client_max_window_bits', 'x-foo; a="1"'],
      }),
    );
    expect(result.extensions).toEqual([
      { name: 'permessage-deflate', params: new Map([['client_max_window_bits', true]]) },
      { name: 'x-foo', params: new Map([['a', '1']]) },
    ]);
  });

  it('combines repeated Sec-WebSocket-Protocol fields, as an array or joined (RFC 6455 §11.3.4)', () => {
    expect(validateUpgradeRequest(request({ 'sec-websocket-protocol': ['chat', 'v2, v3'] })).protocols).toEqual([
      'chat',
      'v2',
      'v3',
    ]);
    expect(validateUpgradeRequest(request({ 'sec-websocket-protocol': 'chat, v2' })).protocols).toEqual(['chat', 'v2']);
    expect(validateUpgradeRequest(request({ 'sec-websocket-protocol': undefined })).protocols).toEqual([]);
    expect(validateUpgradeRequest(request({ 'sec-websocket-protocol': ' , ' })).protocols).toEqual([]);
  });

  it('leaves origin out when absent', () => {
    expect(validateUpgradeRequest(request({ origin: undefined }))).not.toHaveProperty('origin');
  });

  describe('method and HTTP version (RFC 6455 §4.2.1: "An HTTP/1.1 or higher GET request")', () => {
    it.each(['POST', 'HEAD', 'CONNECT', 'get'])('answers %s with 405 and Allow: GET', (method) => {
      const error = expectRejected(request({}, { method }), 'WS_ERR_HANDSHAKE_METHOD', 405);
      expect(error.headers).toEqual({ allow: 'GET' });
    });

    it.each(['1.0', '0.9', '', '1', 'x.y', '1.', '.1', '1.1.1', '11111.1'])('rejects HTTP version %j with 400', (httpVersion) => {
      expectRejected(request({}, { httpVersion }), 'WS_ERR_HANDSHAKE_HTTP_VERSION', 400);
    });

    it.each(['1.1', '1.2', '2.0', '3.0'])('accepts HTTP version %s', (httpVersion) => {
      expect(validateUpgradeRequest(request({}, { httpVersion })).key).toBe(KEY);
    });
  });

  describe('Host (RFC 7230 §5.4)', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['blank', '  '],
      ['repeated', ['a.example', 'b.example']],
      ['an empty array', []],
    ])('answers a %s Host with 400', (_description, host) => {
      expectRejected(request({ host }), 'WS_ERR_HANDSHAKE_HOST', 400);
    });

    it('accepts a single-element array', () => {
      expect(validateUpgradeRequest(request({ host: ['a.example'] })).key).toBe(KEY);
    });
  });

  describe('Upgrade', () => {
    it.each(['websocket', 'WebSocket', 'WEBSOCKET', 'h2c, websocket', ' websocket , ', 'websocket, websocket'])(
      'accepts %j',
      (upgrade) => {
        expect(validateUpgradeRequest(request({ upgrade })).key).toBe(KEY);
      },
    );

    it('accepts websocket in a repeated field', () => {
      expect(validateUpgradeRequest(request({ upgrade: ['h2c', 'WebSocket'] })).key).toBe(KEY);
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['another protocol', 'h2c'],
      ['a versioned websocket', 'websocket/13'],
      ['a near miss', 'websockets'],
      ['malformed', 'web socket'],
      ['malformed after websocket', 'websocket; q=1'],
    ])('answers %s with 400', (_description, upgrade) => {
      expectRejected(request({ upgrade }), 'WS_ERR_HANDSHAKE_UPGRADE', 400);
    });
  });

  describe('Connection', () => {
    it.each(['Upgrade', 'upgrade', 'UPGRADE', 'keep-alive, Upgrade', 'Upgrade, keep-alive', ',upgrade,'])(
      'accepts %j',
      (connection) => {
        expect(validateUpgradeRequest(request({ connection })).key).toBe(KEY);
      },
    );

    it('accepts upgrade in a repeated field', () => {
      expect(validateUpgradeRequest(request({ connection: ['keep-alive', 'upgrade'] })).key).toBe(KEY);
    });

    it.each([
      ['missing', undefined],
      ['keep-alive only', 'keep-alive'],
      ['close', 'close'],
      ['upgrade as a substring', 'upgraded, x-upgrade'],
      ['malformed', 'keep-alive Upgrade'],
    ])('answers %s with 400', (_description, connection) => {
      expectRejected(request({ connection }), 'WS_ERR_HANDSHAKE_CONNECTION', 400);
    });
  });

  describe('Sec-WebSocket-Key', () => {
    it('accepts a single-element array', () => {
      expect(validateUpgradeRequest(request({ 'sec-websocket-key': [KEY] })).key).toBe(KEY);
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['repeated as an array', [KEY, KEY]],
      ['repeated and joined by Node', `${KEY}, ${KEY}`],
      ['15 bytes', 'dGhlIHNhbXBsZSBub25j'],
      ['17 bytes', 'dGhlIHNhbXBsZSBub25jZQE='],
      ['without padding', 'dGhlIHNhbXBsZSBub25jZQ'],
      ['not base64', 'dGhlIHNhbXBsZSBub25j*Q=='],
      ['a 64 KiB value', 'A'.repeat(64 * 1024)],
    ])('answers a %s key with 400', (_description, key) => {
      expectRejected(request({ 'sec-websocket-key': key }), 'WS_ERR_HANDSHAKE_KEY', 400);
    });

    it('says why a repeated key was refused', () => {
      const error = expectRejected(request({ 'sec-websocket-key': [KEY, KEY] }), 'WS_ERR_HANDSHAKE_KEY', 400);
      expect(error.message).toContain('once');
    });
  });

  describe('Sec-WebSocket-Version', () => {
    it.each([
      ['missing', undefined],
      ['8', '8'],
      ['a list', '13, 8'],
      ['repeated', ['13', '13']],
      ['empty', ''],
      ['013', '013'],
    ])('answers %s with 426, Sec-WebSocket-Version: 13 and Upgrade: websocket', (_description, version) => {
      const error = expectRejected(request({ 'sec-websocket-version': version }), 'WS_ERR_HANDSHAKE_VERSION', 426);
      expect(error.headers).toEqual({ 'sec-websocket-version': '13', upgrade: 'websocket' });
    });

    it('ignores surrounding whitespace', () => {
      expect(validateUpgradeRequest(request({ 'sec-websocket-version': ' 13\t' })).key).toBe(KEY);
    });
  });

  describe('Sec-WebSocket-Protocol', () => {
    it.each([
      ['a duplicate', 'chat, chat'],
      ['a duplicate across fields', ['chat', 'chat']],
      ['a space inside a list element', 'chat superchat'],
      ['a separator', 'chat/1'],
      ['a quoted value', '"chat"'],
      ['the ws CVE-2021-32640 shape, 64 KiB', `b${' '.repeat(64 * 1024)}x`],
    ])('answers %s with 400', (_description, protocol) => {
      expectRejected(request({ 'sec-websocket-protocol': protocol }), 'WS_ERR_HANDSHAKE_HEADER', 400);
    });

    it('keeps subprotocols that differ only in case apart', () => {
      expect(validateUpgradeRequest(request({ 'sec-websocket-protocol': 'chat, Chat' })).protocols).toEqual([
        'chat',
        'Chat',
      ]);
    });
  });

  describe('Sec-WebSocket-Extensions', () => {
    it.each([
      ['a bad parameter', 'permessage-deflate; ='],
      ['a quoted non-token', 'x; a="1 2"'],
      ['64 KiB of "a;"', 'a;'.repeat(32 * 1024)],
    ])('answers %s with 400', (_description, extensions) => {
      expectRejected(request({ 'sec-websocket-extensions': extensions }), 'WS_ERR_HANDSHAKE_HEADER', 400);
    });

    it('records a parameter repeated in one offer instead of refusing the request (RFC 7692 §7: the offer is declined)', () => {
      const result = validateUpgradeRequest(
        request({
          'sec-websocket-extensions':
            'permessage-deflate; client_max_window_bits=10; client_max_window_bits, permessage-deflate',
        }),
      );
      expect(result.extensions).toEqual([
        {
          name: 'permessage-deflate',
          params: new Map([['client_max_window_bits', '10']]),
          repeatedParams: ['client_max_window_bits'],
        },
        { name: 'permessage-deflate', params: new Map() },
      ]);
      expect(result.extensions[1]).not.toHaveProperty('repeatedParams');
    });
  });

  describe('Origin', () => {
    it.each([
      ['repeated', ['http://a.example', 'http://b.example']],
      ['repeated and joined by Node', 'http://a.example, http://b.example'],
    ])('answers %s with 400', (_description, origin) => {
      expectRejected(request({ origin }), 'WS_ERR_HANDSHAKE_HEADER', 400);
    });

    it('passes "null" through for the application to judge', () => {
      expect(validateUpgradeRequest(request({ origin: 'null' })).origin).toBe('null');
    });
  });

  it('reports the first failed check in RFC 6455 §4.2.1 order', () => {
    const broken = request({ upgrade: undefined, connection: undefined, 'sec-websocket-key': undefined }, { method: 'PUT' });
    expect(rejectionOf(broken).code).toBe('WS_ERR_HANDSHAKE_METHOD');
    expect(rejectionOf({ ...broken, method: 'GET' }).code).toBe('WS_ERR_HANDSHAKE_UPGRADE');
  });
});

describe('selectSubprotocol', () => {
  it("picks the first of the server's list that the client offered", () => {
    expect(selectSubprotocol(['chat', 'superchat'], ['superchat', 'chat'])).toBe('superchat');
    expect(selectSubprotocol(['a', 'b', 'c'], ['x', 'c', 'b'])).toBe('c');
  });

  it('is undefined when nothing matches', () => {
    expect(selectSubprotocol(['chat'], ['mqtt'])).toBeUndefined();
    expect(selectSubprotocol([], ['mqtt'])).toBeUndefined();
    expect(selectSubprotocol(['chat'], [])).toBeUndefined();
  });

  it('compares names exactly', () => {
    expect(selectSubprotocol(['Chat'], ['chat'])).toBeUndefined();
  });
});

describe('buildAcceptResponse', () => {
  it('writes the RFC 6455 §1.3 example response', () => {
    expect(buildAcceptResponse({ key: KEY, protocol: 'chat' })).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
        'Sec-WebSocket-Protocol: chat\r\n' +
        '\r\n',
    );
  });

  it('writes extensions and extra headers, one line per array value', () => {
    expect(
      buildAcceptResponse({
        key: KEY,
        extensions: 'permessage-deflate; server_no_context_takeover',
        headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Empty': [], 'x-request-id': '7' },
      }),
    ).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
        'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n' +
        'Set-Cookie: a=1\r\n' +
        'Set-Cookie: b=2\r\n' +
        'x-request-id: 7\r\n' +
        '\r\n',
    );
  });

  it('treats an empty protocol or extensions value as none', () => {
    expect(buildAcceptResponse({ key: KEY, protocol: '', extensions: '' })).toBe(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
    );
  });

  it.each([
    ['an invalid key', { key: 'short' }, 'key'],
    ['a protocol with a space', { key: KEY, protocol: 'a b' }, 'protocol'],
    ['a protocol list', { key: KEY, protocol: 'a, b' }, 'protocol'],
    ['a protocol with CR LF', { key: KEY, protocol: 'chat\r\nX-Injected: 1' }, 'protocol'],
    ['extensions with CR LF', { key: KEY, extensions: 'x\r\nX-Injected: 1' }, 'extensions'],
    ['extensions that do not parse', { key: KEY, extensions: 'x; ' }, 'extensions'],
    ['a header value with CR LF', { key: KEY, headers: { 'X-A': 'a\r\n\r\n<html>' } }, 'headers'],
    ['a header value with a lone LF', { key: KEY, headers: { 'X-A': 'a\nb' } }, 'headers'],
    ['a header value with a lone CR', { key: KEY, headers: { 'X-A': 'a\rb' } }, 'headers'],
    ['a header value with NUL', { key: KEY, headers: { 'X-A': 'a\u0000b' } }, 'headers'],
    ['a header value with non-ASCII', { key: KEY, headers: { 'X-A': 'caf\u00e9' } }, 'headers'],
    ['a header value with U+560A (encodes to a LF byte in latin1)', { key: KEY, headers: { 'X-A': '\u560a' } }, 'headers'],
    ['a CR LF in an array value', { key: KEY, headers: { 'Set-Cookie': ['a=1', 'b=2\r\nX: 1'] } }, 'headers'],
    ['a header name with a colon', { key: KEY, headers: { 'X-A: b\r\nX-B': 'c' } }, 'headers'],
    ['a header name with a space', { key: KEY, headers: { 'X A': 'c' } }, 'headers'],
    ['an empty header name', { key: KEY, headers: { '': 'c' } }, 'headers'],
    ['a second Sec-WebSocket-Accept', { key: KEY, headers: { 'sec-websocket-accept': 'x' } }, 'headers'],
    ['a second Upgrade, in any case', { key: KEY, headers: { UPGRADE: 'h2c' } }, 'headers'],
    ['a Connection', { key: KEY, headers: { Connection: 'close' } }, 'headers'],
    ['a Sec-WebSocket-Protocol', { key: KEY, headers: { 'Sec-WebSocket-Protocol': 'x' } }, 'headers'],
    ['a Sec-WebSocket-Extensions', { key: KEY, headers: { 'sec-websocket-extensions': 'x' } }, 'headers'],
    ['a Content-Length', { key: KEY, headers: { 'Content-Length': '0' } }, 'headers'],
  ])('throws TypeError naming %s', (_description, options, argumentName) => {
    let thrown: unknown;
    try {
      buildAcceptResponse(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toContain(`"${argumentName}"`);
  });

  it('allows HTAB and spaces inside a value', () => {
    expect(buildAcceptResponse({ key: KEY, headers: { 'X-A': 'a \tb' } })).toContain('X-A: a \tb\r\n');
  });
});

describe('buildRejectResponse', () => {
  it('writes a complete 400 response with the reason phrase as the default body', () => {
    expect(buildRejectResponse({ status: 400 })).toBe(
      'HTTP/1.1 400 Bad Request\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 11\r\n' +
        '\r\n' +
        'Bad Request',
    );
  });

  it('answers a version mismatch as HandshakeError describes it, with Connection: Upgrade', () => {
    const error = rejectionOf(request({ 'sec-websocket-version': '8' }));
    expect(buildRejectResponse({ status: error.status, headers: error.headers, body: '' })).toBe(
      'HTTP/1.1 426 Upgrade Required\r\n' +
        'Connection: Upgrade, close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 0\r\n' +
        'sec-websocket-version: 13\r\n' +
        'upgrade: websocket\r\n' +
        '\r\n',
    );
  });

  it('answers a wrong method with 405 and Allow', () => {
    const error = rejectionOf(request({}, { method: 'POST' }));
    expect(buildRejectResponse({ status: error.status, headers: error.headers })).toMatch(
      /^HTTP\/1\.1 405 Method Not Allowed\r\n[^]*\r\nallow: GET\r\n\r\nMethod Not Allowed$/,
    );
  });

  it('counts the body in UTF-8 bytes', () => {
    const response = buildRejectResponse({ status: 403, body: 'refusé ✓' });
    expect(response).toContain('Content-Length: 11\r\n');
    expect(response.endsWith('\r\n\r\nrefusé ✓')).toBe(true);
  });

  it('lets extra headers set the Content-Type', () => {
    const response = buildRejectResponse({ status: 401, headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(response).toBe(
      'HTTP/1.1 401 Unauthorized\r\n' +
        'Connection: close\r\n' +
        'Content-Length: 2\r\n' +
        'Content-Type: application/json\r\n' +
        '\r\n' +
        '{}',
    );
  });

  it.each([
    [301, 'Moved Permanently'],
    [404, 'Not Found'],
    [408, 'Request Timeout'],
    [429, 'Too Many Requests'],
    [503, 'Service Unavailable'],
    [418, 'Error'],
    [599, 'Error'],
  ])('writes status %i with reason %j', (status, reason) => {
    expect(buildRejectResponse({ status }).startsWith(`HTTP/1.1 ${status} ${reason}\r\n`)).toBe(true);
  });

  it.each([101, 200, 204, 299, 600, 400.5, Number.NaN])('refuses status %d with RangeError', (status) => {
    expect(() => buildRejectResponse({ status })).toThrow(RangeError);
  });

  it.each([
    ['a CR LF in a value', { 'X-A': 'a\r\nSet-Cookie: x' }],
    ['a CR LF in a name', { 'X-A\r\nSet-Cookie': 'x' }],
    ['a Connection', { connection: 'keep-alive' }],
    ['a Content-Length', { 'content-length': '5' }],
    ['a Transfer-Encoding', { 'Transfer-Encoding': 'chunked' }],
  ])('refuses extra headers with %s', (_description, headers) => {
    expect(() => buildRejectResponse({ status: 400, headers })).toThrow(TypeError);
  });
});
