import type { IncomingMessage } from 'node:http';
import { computeAcceptKey } from '@ws/core';
import { describe, expect, it } from 'vitest';
import { type AuthenticateResult, negotiateUpgrade, pathOf, type UpgradePolicy } from './handle-upgrade.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(overrides: { method?: string; httpVersion?: string; url?: string; headers?: Record<string, string> } = {}) {
  return {
    method: overrides.method ?? 'GET',
    httpVersion: overrides.httpVersion ?? '1.1',
    url: overrides.url ?? '/',
    headers: {
      host: 'example.com',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': KEY,
      'sec-websocket-version': '13',
      ...overrides.headers,
    },
  } as unknown as IncomingMessage;
}

const noPolicy: UpgradePolicy<undefined> = {
  path: undefined,
  allowedOrigins: undefined,
  protocols: undefined,
  selectProtocol: undefined,
  authenticate: undefined,
  headers: undefined,
  perMessageDeflate: undefined,
};

const context = { remoteAddress: '127.0.0.1', signal: new AbortController().signal };

async function outcomeOf<Data>(incoming: IncomingMessage, policy: Partial<UpgradePolicy<Data>> = {}) {
  return negotiateUpgrade<Data>(incoming, { ...(noPolicy as UpgradePolicy<Data>), ...policy }, context);
}

async function statusOf<Data>(incoming: IncomingMessage, policy: Partial<UpgradePolicy<Data>> = {}) {
  const outcome = await outcomeOf(incoming, policy);
  return outcome.accepted ? 101 : outcome.rejection.status;
}

describe('pathOf', () => {
  it('strips the query', () => {
    expect(pathOf('/chat?room=1')).toBe('/chat');
    expect(pathOf('/chat')).toBe('/chat');
    expect(pathOf(undefined)).toBe('/');
  });
});

describe('negotiateUpgrade', () => {
  it('accepts a valid request with the RFC 6455 accept key', async () => {
    const outcome = await outcomeOf(request());
    expect(outcome.accepted).toBe(true);
    if (!outcome.accepted) return;
    expect(outcome.response).toContain('HTTP/1.1 101 Switching Protocols\r\n');
    expect(outcome.response).toContain(`Sec-WebSocket-Accept: ${computeAcceptKey(KEY)}\r\n`);
    expect(outcome.response).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    expect(String(outcome.response).endsWith('\r\n\r\n')).toBe(true);
    expect(outcome.protocol).toBe('');
  });

  it('answers each invalid request with its status', async () => {
    expect(await statusOf(request({ method: 'POST' }))).toBe(405);
    expect(await statusOf(request({ httpVersion: '1.0' }))).toBe(400);
    expect(await statusOf(request({ headers: { upgrade: 'h2c' } }))).toBe(400);
    expect(await statusOf(request({ headers: { connection: 'keep-alive' } }))).toBe(400);
    expect(await statusOf(request({ headers: { 'sec-websocket-key': 'short' } }))).toBe(400);
    expect(await statusOf(request({ headers: { 'content-length': '5' } }))).toBe(400);
    expect(await statusOf(request({ headers: { 'transfer-encoding': 'chunked' } }))).toBe(400);
    expect(await statusOf(request({ headers: { 'content-length': '0' } }))).toBe(101);
  });

  it('answers an unsupported version with 426 and the version it speaks', async () => {
    const outcome = await outcomeOf(request({ headers: { 'sec-websocket-version': '8' } }));
    expect(outcome.accepted).toBe(false);
    if (outcome.accepted) return;
    expect(outcome.rejection.status).toBe(426);
    expect(outcome.rejection.headers).toMatchObject({ 'sec-websocket-version': '13' });
    expect(outcome.error.code).toBe('WS_ERR_HANDSHAKE_VERSION');
  });

  it('answers another path with 404', async () => {
    expect(await statusOf(request({ url: '/other' }), { path: '/chat' })).toBe(404);
    expect(await statusOf(request({ url: '/chat?token=1' }), { path: '/chat' })).toBe(101);
  });

  it('checks the origin against the allow-list, case-insensitively, a missing one refused', async () => {
    const allowedOrigins = ['https://app.example'];
    expect(await statusOf(request({ headers: { origin: 'https://APP.example' } }), { allowedOrigins })).toBe(101);
    expect(await statusOf(request({ headers: { origin: 'https://evil.example' } }), { allowedOrigins })).toBe(403);
    expect(await statusOf(request(), { allowedOrigins })).toBe(403);
    expect(await statusOf(request(), { allowedOrigins: (origin) => origin === undefined })).toBe(101);
  });

  it('selects the server-preferred subprotocol among those offered', async () => {
    const offered = request({ headers: { 'sec-websocket-protocol': 'chat.v1, chat.v2' } });
    const outcome = await outcomeOf(offered, { protocols: ['chat.v2', 'chat.v1'] });
    expect(outcome.accepted && outcome.protocol).toBe('chat.v2');
    expect(outcome.accepted && outcome.response).toContain('Sec-WebSocket-Protocol: chat.v2\r\n');
    const none = await outcomeOf(offered, { protocols: ['other'] });
    expect(none.accepted && none.response).not.toContain('Sec-WebSocket-Protocol');
    const hook = await outcomeOf(offered, { selectProtocol: (list) => list[0] });
    expect(hook.accepted && hook.protocol).toBe('chat.v1');
    expect(await statusOf(offered, { selectProtocol: () => 'not-offered' })).toBe(500);
  });

  it('hands the authenticate hook the request and passes its data to the outcome', async () => {
    const outcome = await outcomeOf<{ user: string }>(request({ url: '/?token=abc' }), {
      authenticate: async (_incoming, info) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return info.searchParams.get('token') === 'abc'
          ? { accept: true, data: { user: 'ada' }, headers: { 'set-cookie': 'session=1' } }
          : { accept: false };
      },
    });
    expect(outcome.accepted && outcome.data).toEqual({ user: 'ada' });
    expect(outcome.accepted && outcome.response).toContain('set-cookie: session=1\r\n');
  });

  it('rejects with the status, headers and body the hook chose (401 by default)', async () => {
    const rejectWith = (result: AuthenticateResult<undefined>) => outcomeOf(request(), { authenticate: () => result });
    const plain = await rejectWith({ accept: false });
    expect(!plain.accepted && plain.rejection.status).toBe(401);
    const detailed = await rejectWith({
      accept: false,
      status: 403,
      headers: { 'www-authenticate': 'Bearer' },
      body: 'no entry',
    });
    expect(!detailed.accepted && detailed.rejection).toEqual({
      status: 403,
      headers: { 'www-authenticate': 'Bearer' },
      body: 'no entry',
    });
  });

  it('answers 500 when a hook throws or produces an unwritable header', async () => {
    expect(
      await statusOf(request(), {
        authenticate: () => {
          throw new Error('database down');
        },
      }),
    ).toBe(500);
    expect(await statusOf(request(), { authenticate: () => Promise.reject(new Error('x')) })).toBe(500);
    expect(await statusOf(request(), { headers: { 'x-bad': 'a\r\nInjected: yes' } })).toBe(500);
    expect(await statusOf(request(), { headers: () => ({ 'x-extra': 'yes' }) })).toBe(101);
  });
});

describe('negotiateUpgrade: permessage-deflate', () => {
  const withOffer = (offer: string) => request({ headers: { 'sec-websocket-extensions': offer } });

  async function accepted(incoming: IncomingMessage, policy: Partial<UpgradePolicy<undefined>>) {
    const outcome = await outcomeOf(incoming, policy);
    if (!outcome.accepted) throw new Error(`refused with ${outcome.rejection.status}`);
    outcome.deflate?.dispose();
    return outcome;
  }

  it('is off by default: an offer is left unanswered and the connection gets no extension', async () => {
    const outcome = await accepted(withOffer('permessage-deflate; client_max_window_bits'), {});
    expect(outcome.extensions).toBe('');
    expect(outcome.deflate).toBeUndefined();
    expect(outcome.response).not.toContain('Sec-WebSocket-Extensions');
  });

  it('accepts the first acceptable offer, answering server_no_context_takeover by default', async () => {
    const outcome = await accepted(withOffer('permessage-deflate; client_max_window_bits'), { perMessageDeflate: {} });
    expect(outcome.extensions).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits=15');
    expect(outcome.response).toContain(`Sec-WebSocket-Extensions: ${outcome.extensions}\r\n`);
    expect(outcome.deflate?.parameters.compressNoContextTakeover).toBe(true);
  });

  it('skips an invalid offer for the next one, and declines gracefully when none is acceptable', async () => {
    // RFC 7692 §7: the server "MUST decline" an offer with an unknown, invalid or repeated parameter.
    const next = await accepted(
      withOffer('permessage-deflate; x_unknown, permessage-deflate; client_no_context_takeover'),
      { perMessageDeflate: {} },
    );
    expect(next.extensions).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    for (const offer of [
      'permessage-deflate; x_unknown',
      'permessage-deflate; server_max_window_bits=16',
      'permessage-deflate; client_max_window_bits=07',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; server_no_context_takeover=1',
    ]) {
      const declined = await accepted(withOffer(offer), { perMessageDeflate: {} });
      expect(declined.extensions, offer).toBe('');
      expect(declined.deflate, offer).toBeUndefined();
    }
  });

  it('negotiates after authenticate, so a refused request allocates no extension', async () => {
    const outcome = await outcomeOf(withOffer('permessage-deflate'), {
      perMessageDeflate: {},
      authenticate: () => ({ accept: false, status: 403 }),
    });
    expect(outcome.accepted).toBe(false);
  });
});
