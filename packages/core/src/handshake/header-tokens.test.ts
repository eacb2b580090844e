import { describe, expect, it } from 'vitest';
import { HandshakeError } from '../errors/handshake-error.js';
import {
  type ExtensionOffer,
  formatExtensionOffers,
  isToken,
  parseExtensionOffers,
  parseTokenList,
  parseUpgradeList,
} from './header-tokens.js';

const KIB_64 = 64 * 1024;

/** The HandshakeError `run` throws, failing the test when it throws nothing or something else. */
function handshakeErrorOf(run: () => unknown): HandshakeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HandshakeError);
    return error as HandshakeError;
  }
  throw new Error('expected a HandshakeError, nothing was thrown');
}

function expectHeaderError(run: () => unknown): HandshakeError {
  const error = handshakeErrorOf(run);
  expect(error.code).toBe('WS_ERR_HANDSHAKE_HEADER');
  expect(error.status).toBe(400);
  return error;
}

const offer = (name: string, params: [string, string | true][] = []): ExtensionOffer => ({
  name,
  params: new Map(params),
});

describe('isToken', () => {
  it('accepts every tchar of RFC 7230 §3.2.6', () => {
    expect(isToken("!#$%&'*+-.^_`|~09azAZ")).toBe(true);
  });

  it.each(['', 'a b', 'a,b', 'a;b', 'a=b', '"a"', 'a/b', 'a:b', 'a\tb', 'é', 'a\u0000', '(a)', '{a}', '[a]', 'a@b', 'a?'])(
    'rejects %j',
    (value) => {
      expect(isToken(value)).toBe(false);
    },
  );
});

describe('parseTokenList', () => {
  it('splits on commas with OWS around them', () => {
    expect(parseTokenList('keep-alive, Upgrade')).toEqual(['keep-alive', 'Upgrade']);
    expect(parseTokenList('a,b\t,\tc ,d')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps case and duplicates as received', () => {
    expect(parseTokenList('Chat, chat, CHAT')).toEqual(['Chat', 'chat', 'CHAT']);
  });

  it('skips empty elements (RFC 7230 §7 examples)', () => {
    // RFC 7230 §7: "the following are valid values for example-list (not including the double
    // quotes, which are present for delimitation only):" "foo,bar" "foo ,bar,"
    // "foo , ,bar,charlie   ".
    expect(parseTokenList('foo,bar')).toEqual(['foo', 'bar']);
    expect(parseTokenList('foo ,bar,')).toEqual(['foo', 'bar']);
    expect(parseTokenList('foo , ,bar,charlie   ')).toEqual(['foo', 'bar', 'charlie']);
    expect(parseTokenList(', ,,  ,')).toEqual([]);
    expect(parseTokenList('')).toEqual([]);
    expect(parseTokenList('   ')).toEqual([]);
  });

  it.each([
    ['a b', 2],
    ['a, b c', 5],
    ['a;b', 1],
    ['a, "b"', 3],
    ['a/1', 1],
    ['chät', 2],
    ['a\r\nb', 1],
    ['a,\u0000', 2],
  ])('rejects %j at index %i', (value, index) => {
    const error = expectHeaderError(() => parseTokenList(value, 'Sec-WebSocket-Protocol'));
    expect(error.message).toContain('Sec-WebSocket-Protocol');
    expect(error.message).toContain(`index ${index}`);
  });

  it('leaves the value out of the error message', () => {
    const error = expectHeaderError(() => parseTokenList(`${'x'.repeat(1000)} y`));
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('parseUpgradeList', () => {
  it('accepts protocol-name/protocol-version elements (RFC 7230 §6.7)', () => {
    expect(parseUpgradeList('HTTP/2.0, SHTTP/1.3, IRC/6.9, RTA/x11')).toEqual([
      'HTTP/2.0',
      'SHTTP/1.3',
      'IRC/6.9',
      'RTA/x11',
    ]);
    expect(parseUpgradeList('WebSocket')).toEqual(['WebSocket']);
    expect(parseUpgradeList(' , websocket ,')).toEqual(['websocket']);
  });

  it.each(['websocket/', 'websocket/ 13', '/13', 'a/b/c', 'web socket'])('rejects %j', (value) => {
    expectHeaderError(() => parseUpgradeList(value));
  });
});

describe('parseExtensionOffers', () => {
  it('parses the RFC 7692 §7.1.3 example offers', () => {
    expect(parseExtensionOffers('permessage-deflate; client_max_window_bits; server_max_window_bits=10')).toEqual([
      offer('permessage-deflate', [
        ['client_max_window_bits', true],
        ['server_max_window_bits', '10'],
      ]),
    ]);
    expect(
      parseExtensionOffers(
        'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits',
      ),
    ).toEqual([
      offer('permessage-deflate', [
        ['client_max_window_bits', true],
        ['server_max_window_bits', '10'],
      ]),
      offer('permessage-deflate', [['client_max_window_bits', true]]),
    ]);
  });

  it('parses the RFC 6455 §9.1 examples', () => {
    expect(parseExtensionOffers('foo')).toEqual([offer('foo')]);
    expect(parseExtensionOffers('bar; baz=2')).toEqual([offer('bar', [['baz', '2']])]);
    expect(parseExtensionOffers('foo, bar; baz=2')).toEqual([offer('foo'), offer('bar', [['baz', '2']])]);
    expect(parseExtensionOffers('mux; max-channels=4; flow-control, deflate-stream')).toEqual([
      offer('mux', [
        ['max-channels', '4'],
        ['flow-control', true],
      ]),
      offer('deflate-stream'),
    ]);
    expect(parseExtensionOffers('private-extension')).toEqual([offer('private-extension')]);
  });

  it('unescapes quoted-string values', () => {
    expect(parseExtensionOffers('x; a="10"; b="\\1\\0"; c="tok"')).toEqual([
      offer('x', [
        ['a', '10'],
        ['b', '10'],
        ['c', 'tok'],
      ]),
    ]);
  });

  it('allows OWS around ",", ";" and "=" (implied *LWS) and skips empty elements', () => {
    expect(parseExtensionOffers(' ,a ;b = 1\t;\tc= "2" ; d ,, e ,')).toEqual([
      offer('a', [
        ['b', '1'],
        ['c', '2'],
        ['d', true],
      ]),
      offer('e'),
    ]);
    expect(parseExtensionOffers('')).toEqual([]);
    expect(parseExtensionOffers(' , , ')).toEqual([]);
  });

  it('keeps parameters in the order received, names as received', () => {
    const [parsed] = parseExtensionOffers('x; Z=1; y; A="b"');
    expect([...(parsed?.params.keys() ?? [])]).toEqual(['Z', 'y', 'A']);
  });

  it.each([
    ['an empty extension name', ';a'],
    ['a missing parameter after ";"', 'x;'],
    ['a missing parameter between ";"', 'x; ; a'],
    ['a missing value after "="', 'x; a='],
    ['a missing value before ";"', 'x; a= ; b'],
    ['a space inside a name', 'per message'],
    ['a separator in a name', 'x/y'],
    ['a separator in a value', 'x; a=b/c'],
    ['a quoted value that is not a token', 'x; a="b c"'],
    ['an empty quoted value', 'x; a=""'],
    ['an escaped non-token character', 'x; a="\\ "'],
    ['an escaped quote', 'x; a="\\""'],
    ['an unterminated quoted value', 'x; a="10'],
    ['a backslash at the end', 'x; a="1\\'],
    ['a quoted name', '"x"'],
    ['text after a quoted value', 'x; a="1"2'],
    ['a second "="', 'x; a=1=2'],
    ['a non-ASCII character', 'x; a=ü'],
    ['a CR LF', 'x\r\n; a'],
  ])('rejects %s', (_description, value) => {
    expectHeaderError(() => parseExtensionOffers(value));
  });

  it('rejects a parameter repeated in one offer, but not across offers', () => {
    const error = expectHeaderError(() => parseExtensionOffers('x; a=1; b; a=2'));
    expect(error.message).toContain('"a"');
    expectHeaderError(() => parseExtensionOffers('x; a; a'));
    expectHeaderError(() => parseExtensionOffers('x; a="1"; a'));
    expect(parseExtensionOffers('x; a=1, x; a=2')).toHaveLength(2);
  });

  it('with markRepeatedParams, records a repeated parameter and keeps its first value', () => {
    const options = { markRepeatedParams: true };
    expect(parseExtensionOffers('x; a=1; b; a=2; a, y; a', 'Sec-WebSocket-Extensions', options)).toEqual([
      { name: 'x', params: new Map<string, string | true>([['a', '1'], ['b', true]]), repeatedParams: ['a', 'a'] },
      offer('y', [['a', true]]),
    ]);
    expect(parseExtensionOffers('x; a', 'Sec-WebSocket-Extensions', options)[0]).not.toHaveProperty('repeatedParams');
    // Malformed values are still refused.
    expectHeaderError(() => parseExtensionOffers('x; a; a=', 'Sec-WebSocket-Extensions', options));
  });

  it('names the field in the error', () => {
    const error = expectHeaderError(() => parseExtensionOffers('x;'));
    expect(error.message).toContain('Sec-WebSocket-Extensions');
    expect(error.message).toContain('index 2');
  });
});

describe('formatExtensionOffers', () => {
  it('formats offers and is the inverse of parseExtensionOffers', () => {
    const offers = [
      offer('permessage-deflate', [
        ['client_max_window_bits', true],
        ['server_max_window_bits', '10'],
      ]),
      offer('permessage-deflate'),
      offer('x-custom', [['a', 'b']]),
    ];
    const formatted = formatExtensionOffers(offers);
    expect(formatted).toBe(
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate, x-custom; a=b',
    );
    expect(parseExtensionOffers(formatted)).toEqual(offers);
    expect(formatExtensionOffers([])).toBe('');
  });

  it.each([
    ['a name that is not a token', [offer('a b')]],
    ['an empty name', [offer('')]],
    ['a parameter name that is not a token', [offer('x', [['a=b', true]])]],
    ['a value that is not a token', [offer('x', [['a', 'b c']])]],
    ['an empty value', [offer('x', [['a', '']])]],
    ['a value holding CR LF', [offer('x', [['a', '1\r\nX-Injected: 1']])]],
  ])('throws TypeError for %s', (_description, offers) => {
    expect(() => formatExtensionOffers(offers)).toThrow(TypeError);
  });
});

describe('pathological 64 KiB values (linear-time scanners)', () => {
  it('parseTokenList: commas and spaces only', () => {
    expect(parseTokenList(', '.repeat(KIB_64 / 2))).toEqual([]);
  });

  it('parseTokenList: many short tokens', () => {
    const tokens = parseTokenList('a,'.repeat(KIB_64 / 2));
    expect(tokens).toHaveLength(KIB_64 / 2);
    expect(tokens.every((token) => token === 'a')).toBe(true);
  });

  it('parseTokenList: one long token', () => {
    expect(parseTokenList('a'.repeat(KIB_64))).toEqual(['a'.repeat(KIB_64)]);
  });

  it('parseTokenList: spaces between tokens without a comma (ws CVE-2021-32640 shape)', () => {
    const error = expectHeaderError(() => parseTokenList(`b${' '.repeat(KIB_64)}x`));
    expect(error.message).toContain(`index ${KIB_64 + 1}`);
  });

  it('parseTokenList: spaces then an invalid character at the end', () => {
    expectHeaderError(() => parseTokenList(`${', '.repeat(KIB_64 / 2)}@`));
  });

  it('parseUpgradeList: many versioned elements', () => {
    expect(parseUpgradeList('a/1,'.repeat(KIB_64 / 4))).toHaveLength(KIB_64 / 4);
  });

  it('parseExtensionOffers: "a;" repeated fails on the first repeated parameter', () => {
    const error = expectHeaderError(() => parseExtensionOffers('a;'.repeat(KIB_64 / 2)));
    expect(error.message).toContain('"a" repeated');
  });

  it('parseExtensionOffers: "a," repeated gives one offer each', () => {
    const offers = parseExtensionOffers('a,'.repeat(KIB_64 / 2));
    expect(offers).toHaveLength(KIB_64 / 2);
    expect(offers.every((parsed) => parsed.name === 'a' && parsed.params.size === 0)).toBe(true);
  });

  it('parseExtensionOffers: thousands of distinct parameters in one offer', () => {
    const count = 8000;
    const value = `x${Array.from({ length: count }, (_, index) => `; p${index}=${index}`).join('')}`;
    expect(value.length).toBeGreaterThan(KIB_64);
    const [parsed] = parseExtensionOffers(value);
    expect(parsed?.params.size).toBe(count);
    expect(parsed?.params.get(`p${count - 1}`)).toBe(String(count - 1));
  });

  it('parseExtensionOffers: a 64 KiB quoted value, plain and escaped', () => {
    expect(parseExtensionOffers(`x; a="${'b'.repeat(KIB_64)}"`)[0]?.params.get('a')).toBe('b'.repeat(KIB_64));
    expect(parseExtensionOffers(`x; a="${'\\b'.repeat(KIB_64 / 2)}"`)[0]?.params.get('a')).toBe(
      'b'.repeat(KIB_64 / 2),
    );
  });

  it('parseExtensionOffers: an unterminated 64 KiB quoted value', () => {
    const error = expectHeaderError(() => parseExtensionOffers(`x; a="${'b'.repeat(KIB_64)}`));
    expect(error.message).toContain('closing quote');
  });

  it('parseExtensionOffers: quotes only', () => {
    expectHeaderError(() => parseExtensionOffers('"'.repeat(KIB_64)));
    expectHeaderError(() => parseExtensionOffers(`x; a=${'"'.repeat(KIB_64)}`));
  });

  it('parseExtensionOffers: spaces and semicolons', () => {
    expectHeaderError(() => parseExtensionOffers(`x${' ;'.repeat(KIB_64 / 2)}`));
    expect(parseExtensionOffers(`x${' '.repeat(KIB_64)}; a${' '.repeat(KIB_64)}=${' '.repeat(KIB_64)}1`)).toEqual([
      offer('x', [['a', '1']]),
    ]);
  });

  it('parseExtensionOffers: many offers each with a parameter', () => {
    expect(parseExtensionOffers('a; b=1, '.repeat(KIB_64 / 8))).toHaveLength(KIB_64 / 8);
  });
});
