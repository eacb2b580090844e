import { Buffer } from 'node:buffer';
import { Opcode } from '@ws/core';
import { hex } from '../peer/hex.js';
import type { ConformanceCase } from './conformance-case.js';
import { combine, informational, judgeEcho, judgeFailure, judgeObserved, pass, text } from './judgement.js';
import { RfcQuote } from './rfc-quote.js';

function closeBody(code: number, reason: string | Buffer = ''): Buffer {
  const reasonBytes = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const body = Buffer.alloc(2 + reasonBytes.length);
  body.writeUInt16BE(code, 0);
  reasonBytes.copy(body, 2);
  return body;
}

const CLOSE_1000 = { opcode: Opcode.Close, payload: closeBody(1000) } as const;

const closeCase = (
  id: string,
  description: string,
  rfc: string,
  run: ConformanceCase['run'],
): ConformanceCase => ({ id, section: 7, description, rfc, run });

/** 7.7: codes a close frame may carry; the implementation must answer the closing handshake. */
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as const;
/** 7.9: codes that may not appear in a close frame; receiving one is a protocol error. */
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999] as const;

function validCodeRfc(code: number): string {
  if (code >= 1012 && code <= 1014) return `${RfcQuote.ianaCloseCode} ${RfcQuote.closeResponse}`;
  if (code >= 3000) return `${RfcQuote.closeCodeRanges} ${RfcQuote.closeResponse}`;
  return RfcQuote.closeResponse;
}

/** Section 7: the closing handshake and close frame contents, every close code included. */
export const section7: readonly ConformanceCase[] = [
  closeCase(
    '7.1.1',
    'Send a text message, then a close frame with 1000; expect the message echoed, then a close frame with 1000.',
    RfcQuote.closeResponse,
    async (context) => {
      const peer = await context.open();
      await peer.sendFrames([{ opcode: Opcode.Text, payload: 'Hello World!' }, CLOSE_1000]);
      return judgeEcho(context, [text('Hello World!')]);
    },
  ),
  closeCase(
    '7.1.2',
    'Send two close frames; expect one close frame in reply and nothing after it.',
    RfcQuote.noDataAfterClose,
    async (context) => {
      const peer = await context.open();
      await peer.sendFrames([CLOSE_1000, CLOSE_1000]);
      return judgeEcho(context, []);
    },
  ),
  closeCase(
    '7.1.3',
    'Send a close frame, then a ping; expect a close frame in reply and no pong.',
    `${RfcQuote.ping} ${RfcQuote.noDataAfterClose}`,
    async (context) => {
      const peer = await context.open();
      await peer.sendFrames([CLOSE_1000, { opcode: Opcode.Ping, payload: 'Hello World!' }]);
      return judgeEcho(context, []);
    },
  ),
  closeCase(
    '7.1.4',
    'Send a close frame, then a text message; expect a close frame in reply and no echo.',
    RfcQuote.noDataAfterClose,
    async (context) => {
      const peer = await context.open();
      await peer.sendFrames([CLOSE_1000, { opcode: Opcode.Text, payload: 'Hello World!' }]);
      return judgeEcho(context, []);
    },
  ),
  closeCase(
    '7.1.5',
    'Send the first fragment of a text message, a close frame, then the last fragment; expect a close frame in reply and no echo.',
    RfcQuote.noDataAfterClose,
    async (context) => {
      const peer = await context.open();
      await peer.sendFrames([
        { opcode: Opcode.Text, payload: 'fragment1', fin: false },
        CLOSE_1000,
        { opcode: Opcode.Continuation, payload: 'fragment2', fin: true },
      ]);
      return judgeEcho(context, []);
    },
  ),
  closeCase(
    '7.1.6',
    'Send a 256 KiB text message, a close frame, then a ping; informational: whether the echo arrives before the close reply. No pong may follow.',
    RfcQuote.noDataAfterClose,
    async (context) => {
      const peer = await context.open();
      await peer.sendFrames([
        { opcode: Opcode.Text, payload: Buffer.alloc(256 * 1024, 'BAsd7&jh23') },
        CLOSE_1000,
        { opcode: Opcode.Ping, payload: 'Hello World!' },
      ]);
      return judgeObserved(context, {
        forbidden: (traffic) =>
          traffic.some((event) => event.type === 'pong') ? 'answered a ping that arrived after the close frame' : undefined,
      });
    },
  ),
  closeCase(
    '7.3.1',
    'Send a close frame with an empty body; expect a close frame in reply (empty or 1000).',
    RfcQuote.closeResponse,
    async (context) => {
      const peer = await context.open();
      await peer.sendClose();
      return judgeEcho(context, [], { acceptCloseCodes: [1000] });
    },
  ),
  closeCase(
    '7.3.2',
    'Send a close frame with a 1-byte body; expect the connection failed with 1002.',
    RfcQuote.closeBody,
    async (context) => {
      const peer = await context.open();
      await peer.sendFrame({ opcode: Opcode.Close, payload: hex`03` });
      return judgeFailure(context, { codes: [1002] });
    },
  ),
  closeCase('7.3.3', 'Send a close frame with code 1000 and no reason; expect 1000 in reply.', RfcQuote.closeResponse, async (context) => {
    const peer = await context.open();
    await peer.sendClose(1000);
    return judgeEcho(context, []);
  }),
  closeCase(
    '7.3.4',
    'Send a close frame with code 1000 and a reason; expect 1000 in reply.',
    RfcQuote.closeBody,
    async (context) => {
      const peer = await context.open();
      await peer.sendClose(1000, 'Hello World!');
      return judgeEcho(context, []);
    },
  ),
  closeCase(
    '7.3.5',
    'Send a close frame with code 1000 and a 123-byte reason (the largest body); expect 1000 in reply.',
    RfcQuote.controlFrameLength,
    async (context) => {
      const peer = await context.open();
      await peer.sendClose(1000, '*'.repeat(123));
      return judgeEcho(context, []);
    },
  ),
  closeCase(
    '7.3.6',
    'Send a close frame with code 1000 and a 124-byte reason (a 126-byte control frame); expect the connection failed with 1002.',
    RfcQuote.controlFrameLength,
    async (context) => {
      const peer = await context.open();
      await peer.sendClose(1000, '*'.repeat(124));
      return judgeFailure(context, { codes: [1002] });
    },
  ),
  closeCase(
    '7.5.1',
    'Send a close frame with code 1000 and a reason that is not valid UTF-8; expect the connection failed with 1007.',
    RfcQuote.closeReasonUtf8,
    async (context) => {
      const peer = await context.open();
      await peer.sendClose(1000, hex`ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64`);
      return judgeFailure(context, { codes: [1007], tolerate: [1002] });
    },
  ),
  ...VALID_CODES.map((code, index) =>
    closeCase(
      `7.7.${index + 1}`,
      `Send a close frame with the valid code ${code}; expect a close frame in reply with ${code} (or 1000).`,
      validCodeRfc(code),
      async (context) => {
        const peer = await context.open();
        await peer.sendClose(code);
        return judgeEcho(context, [], { closeCode: code, acceptCloseCodes: [code, 1000] });
      },
    ),
  ),
  ...INVALID_CODES.map((code, index) =>
    closeCase(
      `7.9.${index + 1}`,
      `Send a close frame with the invalid code ${code}; expect the connection failed with 1002.`,
      [1004, 1005, 1006, 1015].includes(code) ? RfcQuote.reservedCloseCode : RfcQuote.closeCodeRanges,
      async (context) => {
        const peer = await context.open();
        await peer.sendClose(code);
        return judgeFailure(context, { codes: [1002] });
      },
    ),
  ),
  ...[5000, 65535].map((code, index) =>
    closeCase(
      `7.13.${index + 1}`,
      `Send a close frame with code ${code} (beyond the defined ranges); informational: how the implementation replies.`,
      RfcQuote.closeCodeOutOfRange,
      async (context) => {
        const peer = await context.open();
        await peer.sendClose(code);
        return informational(combine(pass(`sent close ${code}`), await judgeObserved(context)));
      },
    ),
  ),
];
