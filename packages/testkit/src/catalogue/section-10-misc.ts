import { Buffer } from 'node:buffer';
import { type Http2ResponseHeaders, Opcode, computeAcceptKey } from '@ws/core';
import { headerValue, type HttpRequestHead } from '../peer/http-head.js';
import type { RequestHeaders } from '../peer/client-handshake.js';
import type { ConformanceCase, CaseContext, Verdict } from './conformance-case.js';
import { combine, fail, informational, judgeEcho, judgeFailure, pass, text } from './judgement.js';
import { describeEvent } from './peer-observer.js';
import { RfcQuote } from './rfc-quote.js';

/**
 * 10.5: a server must refuse a broken opening handshake with an HTTP error and never switch
 * protocols. Most break what only the HTTP/1.1 upgrade has (`http1Only`).
 */
function badRequestCase(
  index: number,
  description: string,
  rfc: string,
  request: { readonly headers?: RequestHeaders; readonly method?: string },
  judge?: (statusCode: number, headers: Readonly<Record<string, string | string[]>>) => Verdict | undefined,
  http1Only = true,
): ConformanceCase {
  return {
    id: `10.5.${index}`,
    section: 10,
    targets: ['server'],
    ...(http1Only ? { http1Only } : {}),
    description: `${description}; expect an HTTP 4xx response, not 101.`,
    rfc,
    async run(context) {
      const peer = await context.open({ handshake: 'raw', ...request });
      const response = peer.handshakeResponse!;
      const status = `answered ${response.statusCode} ${response.statusText}`.trim();
      if (response.statusCode === 101) return fail(`${status}: the server switched protocols on an invalid request`);
      if (response.statusCode < 400 || response.statusCode > 499) return fail(`${status}, expected a 4xx status`);
      return judge?.(response.statusCode, response.headers) ?? pass(status);
    },
  };
}

/**
 * The wrong answers 10.6 gives a client, each of which the client must refuse. Those that only
 * an HTTP/1.1 upgrade can get wrong (the accept key, Upgrade, Connection, the 101) have no
 * `overHttp2` answer and are `http1Only`.
 */
function badResponseCase(
  index: number,
  description: string,
  rfc: string,
  answer: (request: HttpRequestHead) => string,
  overHttp2?: Http2ResponseHeaders,
): ConformanceCase {
  return {
    id: `10.6.${index}`,
    section: 10,
    targets: ['client'],
    ...(overHttp2 === undefined ? { http1Only: true } : {}),
    description: `Answer the client's opening handshake with ${description}, then send a text message; expect the client to fail the connection without echoing.`,
    rfc,
    async run(context) {
      const peer = await context.open({ answer, ...(overHttp2 === undefined ? {} : { answerOverHttp2: () => overHttp2 }) });
      await peer.sendText('this must not be echoed');
      return judgeClientAbort(context);
    },
  };
}

/** The client must drop the connection: it never became a WebSocket connection, so nothing may be echoed. */
async function judgeClientAbort(context: CaseContext): Promise<Verdict> {
  const sent: string[] = [];
  const deadline = performance.now() + context.timeouts.response;
  for (;;) {
    const event = await context.observer.next(Math.max(0, deadline - performance.now()));
    if (event.type === 'eof') {
      return pass(`the client closed the connection${sent.length === 0 ? '' : ` after sending ${sent.join(', ')}`}`);
    }
    if (event.type === 'timeout') return fail(`the client kept the connection open for ${context.timeouts.response} ms`);
    if (event.type === 'message' || event.type === 'pong') return fail(`the client treated the connection as open: ${describeEvent(event)}`);
    sent.push(describeEvent(event));
  }
}

const acceptFor = (request: HttpRequestHead) => computeAcceptKey(headerValue(request.headers, 'sec-websocket-key') ?? '');

/** Section 10: miscellaneous — automatic fragmentation, length encodings, masking direction, handshakes. */
export const section10: readonly ConformanceCase[] = [
  {
    id: '10.1.1',
    section: 10,
    description: 'Send a 64 KiB text message; expect it echoed whole, however the implementation fragments its reply.',
    rfc: RfcQuote.autoFragmentation,
    async run(context) {
      const peer = await context.open();
      const payload = Buffer.alloc(65536, '*');
      await peer.sendFrame({ opcode: Opcode.Text, payload });
      return judgeEcho(context, [text(payload)]);
    },
  },
  ...(['16', '64'] as const).map(
    (form, index): ConformanceCase => ({
      id: `10.2.${index + 1}`,
      section: 10,
      description: `Send a 5-byte text message whose length is encoded in the ${form}-bit form (not minimal); informational: echoed or failed with 1002.`,
      rfc: RfcQuote.minimalLength,
      async run(context) {
        const peer = await context.open();
        await peer.sendFrame({ opcode: Opcode.Text, payload: 'Hello', length: form });
        const first = await context.observer.peek(context.timeouts.response);
        if (first.type === 'message') {
          return informational(combine(pass('accepted the non-minimal length'), await judgeEcho(context, [text('Hello')])));
        }
        return informational(combine(pass('refused the non-minimal length'), await judgeFailure(context, { codes: [1002] })));
      },
    }),
  ),
  {
    id: '10.3.1',
    section: 10,
    description: 'Send a frame whose 64-bit length has the most significant bit set; expect the connection failed with 1002.',
    rfc: RfcQuote.payloadLength,
    async run(context) {
      const peer = await context.open();
      const mask = context.target === 'server' ? Buffer.from([0x80 | 127]) : Buffer.from([127]);
      const header = Buffer.concat([Buffer.from([0x82]), mask, Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 5])]);
      await peer.sendRaw(Buffer.concat([header, context.target === 'server' ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.from('Hello')]));
      return judgeFailure(context, { codes: [1002], tolerate: [1009] });
    },
  },
  {
    id: '10.4.1',
    section: 10,
    description:
      'Send a text message with the mask bit the wrong way for the direction (unmasked to a server, masked to a client); expect the connection failed with 1002.',
    rfc: `${RfcQuote.serverMustUnmask} ${RfcQuote.clientMustNotAcceptMasked}`,
    async run(context) {
      const peer = await context.open();
      await peer.sendFrame({ opcode: Opcode.Text, payload: 'Hello', mask: context.target === 'client' });
      return judgeFailure(context, { codes: [1002] });
    },
  },
  badRequestCase(1, 'Open with a request that has no Sec-WebSocket-Key', RfcQuote.handshakeKey, {
    headers: { 'Sec-WebSocket-Key': null },
  }),
  badRequestCase(2, 'Open with a Sec-WebSocket-Key that decodes to 8 bytes', RfcQuote.handshakeKey, {
    headers: { 'Sec-WebSocket-Key': 'AAAAAAAAAAA=' },
  }),
  badRequestCase(
    3,
    'Open with Sec-WebSocket-Version: 12',
    RfcQuote.handshakeVersion,
    { headers: { 'Sec-WebSocket-Version': '12' } },
    (statusCode, headers) => {
      const versions = headerValue(headers, 'sec-websocket-version');
      if (versions === undefined || !versions.split(',').some((version) => version.trim() === '13')) {
        return fail(`answered ${statusCode} without a Sec-WebSocket-Version header listing 13`);
      }
      return pass(`answered ${statusCode} with Sec-WebSocket-Version: ${versions}`);
    },
    // RFC 8441 keeps Sec-WebSocket-Version on the extended CONNECT: this one applies over HTTP/2.
    false,
  ),
  badRequestCase(4, 'Open with a request that has no Upgrade header', RfcQuote.handshakeUpgrade, {
    headers: { Upgrade: null, Connection: 'keep-alive' },
  }),
  badRequestCase(5, 'Open with a POST request', RfcQuote.handshakeMethod, { method: 'POST' }),
  badResponseCase(
    1,
    'a wrong Sec-WebSocket-Accept',
    RfcQuote.clientAccept,
    () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  ),
  badResponseCase(
    2,
    'a 101 without an Upgrade header',
    RfcQuote.clientUpgrade,
    (request) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`,
  ),
  badResponseCase(
    3,
    'a 101 whose Connection header lacks "Upgrade"',
    RfcQuote.clientConnection,
    (request) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`,
  ),
  badResponseCase(
    4,
    'a 101 selecting a subprotocol the client did not offer',
    RfcQuote.clientProtocol,
    (request) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(request)}\r\n` +
      'Sec-WebSocket-Protocol: x-testkit-never-offered\r\n\r\n',
    // RFC 8441 §5 keeps the subprotocol negotiation of RFC 6455 on the 200.
    { ':status': 200, 'sec-websocket-protocol': 'x-testkit-never-offered' },
  ),
  badResponseCase(
    5,
    'a 101 accepting an extension the client did not offer',
    RfcQuote.clientExtension,
    (request) =>
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(request)}\r\n` +
      'Sec-WebSocket-Extensions: x-testkit-never-offered\r\n\r\n',
    { ':status': 200, 'sec-websocket-extensions': 'x-testkit-never-offered' },
  ),
  badResponseCase(
    6,
    '200 OK instead of 101',
    RfcQuote.clientStatus,
    () => 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
  ),
];
