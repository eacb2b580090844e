import { describe, expect, it } from 'vitest';
import {
  HandshakeError,
  acceptPerMessageDeflate,
  acceptPerMessageDeflateResponse,
  offerPerMessageDeflate,
  parseExtensionOffers,
  type PerMessageDeflateClientOptions,
  type PerMessageDeflateParameters,
  type PerMessageDeflateServerOptions,
} from '@ws/core';

/** Parses a request's header value as the server handshake does (repeated parameters recorded). */
const offers = (value: string) => parseExtensionOffers(value, 'Sec-WebSocket-Extensions', { markRepeatedParams: true });

const DEFAULTS: Required<PerMessageDeflateParameters> = {
  compressNoContextTakeover: false,
  decompressNoContextTakeover: false,
  compressMaxWindowBits: 15,
  decompressMaxWindowBits: 15,
  threshold: 1024,
  level: 1,
  memLevel: 8,
};

describe('acceptPerMessageDeflate (server)', () => {
  it.each<[string, string, PerMessageDeflateServerOptions, string, Partial<PerMessageDeflateParameters>]>([
    ['no parameters', 'permessage-deflate', {}, 'permessage-deflate; server_no_context_takeover', {}],
    [
      'client_max_window_bits without a value',
      'permessage-deflate; client_max_window_bits',
      {},
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=15',
      {},
    ],
    [
      'client_max_window_bits=10: answered with the same value',
      'permessage-deflate; client_max_window_bits=10',
      {},
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
      { decompressMaxWindowBits: 10 },
    ],
    [
      'a quoted value',
      'permessage-deflate; client_max_window_bits="10"',
      {},
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
      { decompressMaxWindowBits: 10 },
    ],
    [
      'client_max_window_bits=8: the peer may use 8',
      'permessage-deflate; client_max_window_bits=8',
      {},
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=8',
      { decompressMaxWindowBits: 8 },
    ],
    [
      'server_max_window_bits=10: answered with the same value',
      'permessage-deflate; server_max_window_bits=10',
      {},
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10',
      { compressMaxWindowBits: 10 },
    ],
    [
      'server_no_context_takeover, even when the policy would take over',
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: false },
      'permessage-deflate; server_no_context_takeover',
      {},
    ],
    [
      'client_no_context_takeover: answered, so the inflater can be freed between messages',
      'permessage-deflate; client_no_context_takeover',
      {},
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      { decompressNoContextTakeover: true },
    ],
    [
      'a policy with context takeover',
      'permessage-deflate; client_max_window_bits',
      { serverNoContextTakeover: false },
      'permessage-deflate; client_max_window_bits=15',
      { compressNoContextTakeover: false },
    ],
    [
      'a policy asking for client_no_context_takeover unoffered',
      'permessage-deflate',
      { clientNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      { decompressNoContextTakeover: true },
    ],
    [
      'a server window limit, unoffered',
      'permessage-deflate',
      { serverMaxWindowBits: 12 },
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=12',
      { compressMaxWindowBits: 12 },
    ],
    [
      'a server window limit below the offered one',
      'permessage-deflate; server_max_window_bits=14',
      { serverMaxWindowBits: 12 },
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=12',
      { compressMaxWindowBits: 12 },
    ],
    [
      'a server window limit above the offered one',
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 12 },
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10',
      { compressMaxWindowBits: 10 },
    ],
    [
      'a client window limit',
      'permessage-deflate; client_max_window_bits',
      { clientMaxWindowBits: 11 },
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=11',
      { decompressMaxWindowBits: 11 },
    ],
    [
      'a client window limit above the offered one',
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 11 },
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=9',
      { decompressMaxWindowBits: 9 },
    ],
    [
      'every parameter',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=13',
      { threshold: 10, level: 9, memLevel: 4 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=13',
      { decompressNoContextTakeover: true, compressMaxWindowBits: 9, decompressMaxWindowBits: 13, threshold: 10, level: 9, memLevel: 4 },
    ],
  ])('accepts %s', (_description, header, options, response, parameters) => {
    const accepted = acceptPerMessageDeflate(offers(header), options);
    expect(accepted?.response).toBe(response);
    expect(accepted?.responseOffer).toEqual(parseExtensionOffers(response)[0]);
    expect(accepted?.extension.parameters).toEqual({ ...DEFAULTS, compressNoContextTakeover: true, ...parameters });
  });

  it.each([
    ['an unknown parameter', 'permessage-deflate; x'],
    ['an unknown parameter with a value', 'permessage-deflate; client_max_window_bits; mux=1'],
    ['a response-only spelling', 'permessage-deflate; max_window_bits=10'],
    ['server_no_context_takeover with a value', 'permessage-deflate; server_no_context_takeover=1'],
    ['client_no_context_takeover with a value', 'permessage-deflate; client_no_context_takeover=true'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['server_max_window_bits=010 (a leading zero)', 'permessage-deflate; server_max_window_bits=010'],
    ['server_max_window_bits=09', 'permessage-deflate; server_max_window_bits=09'],
    ['server_max_window_bits=ten', 'permessage-deflate; server_max_window_bits=ten'],
    ['server_max_window_bits=1e1', 'permessage-deflate; server_max_window_bits=1e1'],
    ['client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=7'],
    ['client_max_window_bits=08', 'permessage-deflate; client_max_window_bits=08'],
    ['client_max_window_bits=0x0f', 'permessage-deflate; client_max_window_bits=0x0f'],
    ['a repeated parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['a repeated parameter with other values', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=11'],
    ['server_max_window_bits=8, which zlib cannot compress with', 'permessage-deflate; server_max_window_bits=8'],
    ['another extension only', 'x-webkit-deflate-frame'],
    ['nothing', ''],
  ])('declines %s (RFC 7692 §7), leaving the connection uncompressed', (_description, header) => {
    expect(acceptPerMessageDeflate(offers(header))).toBeUndefined();
  });

  it('declines an offer without client_max_window_bits when the policy limits the client window', () => {
    expect(acceptPerMessageDeflate(offers('permessage-deflate'), { clientMaxWindowBits: 12 })).toBeUndefined();
    expect(acceptPerMessageDeflate(offers('permessage-deflate'), { clientMaxWindowBits: 15 })?.response).toBe(
      'permessage-deflate; server_no_context_takeover',
    );
  });

  it('takes the first acceptable offer, in the client\'s order of preference (RFC 7692 §5)', () => {
    const header =
      'x-foo; a=1, permessage-deflate; server_max_window_bits=8, permessage-deflate; bogus, ' +
      'permessage-deflate; server_max_window_bits=10; client_max_window_bits, permessage-deflate';
    expect(acceptPerMessageDeflate(offers(header))?.response).toBe(
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15',
    );
    expect(
      acceptPerMessageDeflate(offers('permessage-deflate, permessage-deflate; client_max_window_bits'))?.response,
    ).toBe('permessage-deflate; server_no_context_takeover');
    expect(
      acceptPerMessageDeflate(
        offers('permessage-deflate; client_max_window_bits; client_max_window_bits, permessage-deflate; client_no_context_takeover'),
      )?.response,
    ).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover');
  });

  it.each<[string, PerMessageDeflateServerOptions]>([
    ['serverMaxWindowBits 8', { serverMaxWindowBits: 8 }],
    ['serverMaxWindowBits 16', { serverMaxWindowBits: 16 }],
    ['clientMaxWindowBits 7', { clientMaxWindowBits: 7 }],
    ['clientMaxWindowBits 12.5', { clientMaxWindowBits: 12.5 }],
    ['level 10', { level: 10 }],
    ['memLevel 0', { memLevel: 0 }],
    ['threshold -1', { threshold: -1 }],
  ])('throws RangeError for a policy with %s', (_description, options) => {
    expect(() => acceptPerMessageDeflate(offers('permessage-deflate; client_max_window_bits'), options)).toThrow(
      RangeError,
    );
  });
});

describe('offerPerMessageDeflate (client)', () => {
  it('offers client_max_window_bits without a value by default, so the server may limit it', () => {
    expect(offerPerMessageDeflate()).toBe('permessage-deflate; client_max_window_bits');
  });

  it('offers every parameter it is given', () => {
    expect(
      offerPerMessageDeflate({
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 8,
        clientMaxWindowBits: 12,
      }),
    ).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=12',
    );
  });

  it.each<[string, PerMessageDeflateClientOptions]>([
    ['clientMaxWindowBits 8 (zlib cannot compress with it)', { clientMaxWindowBits: 8 }],
    ['clientMaxWindowBits 16', { clientMaxWindowBits: 16 }],
    ['serverMaxWindowBits 7', { serverMaxWindowBits: 7 }],
  ])('throws RangeError for %s', (_description, options) => {
    expect(() => offerPerMessageDeflate(options)).toThrow(RangeError);
  });
});

describe('acceptPerMessageDeflateResponse (client)', () => {
  const response = (value: string) => offers(value)[0]!;

  it.each<[string, string, PerMessageDeflateClientOptions, Partial<PerMessageDeflateParameters>]>([
    ['no parameters', 'permessage-deflate', {}, {}],
    [
      'every parameter',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
      {},
      { compressNoContextTakeover: true, decompressNoContextTakeover: true, compressMaxWindowBits: 9, decompressMaxWindowBits: 10 },
    ],
    [
      'server_no_context_takeover unasked (RFC 7692 §7.1.1.1 allows it)',
      'permessage-deflate; server_no_context_takeover',
      {},
      { decompressNoContextTakeover: true },
    ],
    [
      'no client_max_window_bits: the offered limit still holds',
      'permessage-deflate',
      { clientMaxWindowBits: 10 },
      { compressMaxWindowBits: 10 },
    ],
    [
      'a client window below the offered one',
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 10 },
      { compressMaxWindowBits: 9 },
    ],
    [
      'a server window below the offered one',
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 10 },
      { decompressMaxWindowBits: 9 },
    ],
    [
      'the offered client_no_context_takeover, kept to without an answer',
      'permessage-deflate',
      { clientNoContextTakeover: true, threshold: 0, level: 5, memLevel: 3 },
      { compressNoContextTakeover: true, threshold: 0, level: 5, memLevel: 3 },
    ],
  ])('accepts %s', (_description, value, options, parameters) => {
    expect(acceptPerMessageDeflateResponse(response(value), options).parameters).toEqual({ ...DEFAULTS, ...parameters });
  });

  it('accepts client_max_window_bits=8, and then sends uncompressed', () => {
    const extension = acceptPerMessageDeflateResponse(response('permessage-deflate; client_max_window_bits=8'));
    expect(extension.parameters.compressMaxWindowBits).toBe(8);
    expect(extension.shouldEncode(1 << 20)).toBe(false);
  });

  it.each<[string, string, PerMessageDeflateClientOptions?]>([
    ['an unknown parameter', 'permessage-deflate; x'],
    ['a repeated parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['server_no_context_takeover with a value', 'permessage-deflate; server_no_context_takeover=1'],
    ['client_no_context_takeover with a value', 'permessage-deflate; client_no_context_takeover=1'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16'],
    ['client_max_window_bits=7', 'permessage-deflate; client_max_window_bits=7'],
    ['client_max_window_bits=010', 'permessage-deflate; client_max_window_bits=010'],
    ['server_max_window_bits above the offered one', 'permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 10 }],
    ['client_max_window_bits above the offered one', 'permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 10 }],
    ['no server_no_context_takeover when asked for', 'permessage-deflate', { serverNoContextTakeover: true }],
    ['no server_max_window_bits when asked for', 'permessage-deflate', { serverMaxWindowBits: 12 }],
    ['another extension', 'x-foo'],
  ])('fails the handshake for %s (RFC 7692 §7)', (_description, value, options) => {
    let thrown: unknown;
    try {
      acceptPerMessageDeflateResponse(response(value), options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HandshakeError);
    expect(thrown).toMatchObject({ code: 'WS_ERR_HANDSHAKE_EXTENSION', status: 101 });
  });
});
