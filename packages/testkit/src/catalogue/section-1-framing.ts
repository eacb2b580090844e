import { Buffer } from 'node:buffer';
import { Opcode } from '@ws/core';
import type { ConformanceCase } from './conformance-case.js';
import { binary, judgeEcho, text } from './judgement.js';
import { RfcQuote } from './rfc-quote.js';

/** The lengths around the three length encodings of RFC 6455 §5.2. */
const SIZES = [0, 125, 126, 127, 128, 65535, 65536] as const;
/** Chop size of the last case of each group: a prime, so frames and reads never line up. */
const CHOP = 997;

function framingCase(group: 1 | 2, index: number, size: number, chop?: number): ConformanceCase {
  const isText = group === 1;
  const kind = isText ? 'text' : 'binary';
  const payload = isText ? Buffer.alloc(size, '*') : Buffer.alloc(size, 0xfe);
  return {
    id: `1.${group}.${index}`,
    section: 1,
    description:
      `Send a ${kind} message with a payload of ${size} bytes${chop === undefined ? '' : `, written in chops of ${chop} bytes`}; ` +
      'expect it echoed unchanged.',
    rfc: `${RfcQuote.payloadLength} ${isText ? RfcQuote.text : RfcQuote.binary}`,
    async run(context) {
      const peer = await context.open();
      await peer.sendFrame({ opcode: isText ? Opcode.Text : Opcode.Binary, payload, ...(chop === undefined ? {} : { chop, delay: 1 }) });
      return judgeEcho(context, [isText ? text(payload) : binary(payload)]);
    },
  };
}

/** 1.1 text and 1.2 binary messages of every length encoding, unfragmented. */
export const section1: readonly ConformanceCase[] = ([1, 2] as const).flatMap((group) => [
  ...SIZES.map((size, index) => framingCase(group, index + 1, size)),
  framingCase(group, SIZES.length + 1, 65536, CHOP),
]);
