import { Buffer } from 'node:buffer';
import { Opcode } from '@ws/core';
import type { SendFrameOptions } from '../peer/frame-writer.js';
import { type Chopping, sendFrames } from './send-frames.js';
import type { ConformanceCase } from './conformance-case.js';
import { judgeFailure, text } from './judgement.js';
import { RfcQuote } from './rfc-quote.js';

/** The three RSV bits as Autobahn numbers them: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
function rsvBits(value: number): Pick<SendFrameOptions, 'rsv1' | 'rsv2' | 'rsv3'> {
  return { rsv1: (value & 4) !== 0, rsv2: (value & 2) !== 0, rsv3: (value & 1) !== 0 };
}

const CHOPPING_WORDS: Readonly<Record<Chopping, string>> = {
  none: '',
  frames: ', each frame written separately',
  octets: ', written byte by byte',
};

function afterValidMessage(index: number, rsv: number, chopping: Chopping): ConformanceCase {
  return {
    id: `3.${index}`,
    section: 3,
    description:
      `Send a valid text message, then a text message with RSV = ${rsv}, then a ping${CHOPPING_WORDS[chopping]}; ` +
      'expect the first message echoed, then the connection failed with 1002 (and no pong).',
    rfc: RfcQuote.reservedBits,
    async run(context) {
      const peer = await context.open();
      await sendFrames(
        peer,
        [
          { opcode: Opcode.Text, payload: 'Hello, world!' },
          { opcode: Opcode.Text, payload: 'Hello, world!', ...rsvBits(rsv) },
          { opcode: Opcode.Ping, payload: '' },
        ],
        chopping,
      );
      return judgeFailure(context, { codes: [1002], before: [text('Hello, world!')], nonStrictBefore: [[]] });
    },
  };
}

function alone(index: number, rsv: number, what: string, frame: SendFrameOptions): ConformanceCase {
  return {
    id: `3.${index}`,
    section: 3,
    description: `Send ${what} with RSV = ${rsv}; expect the connection failed with 1002.`,
    rfc: RfcQuote.reservedBits,
    async run(context) {
      const peer = await context.open();
      await peer.sendFrame({ ...frame, ...rsvBits(rsv) });
      return judgeFailure(context, { codes: [1002] });
    },
  };
}

/** Section 3: reserved bits set without a negotiated extension. */
export const section3: readonly ConformanceCase[] = [
  alone(1, 1, 'a small text message', { opcode: Opcode.Text, payload: 'Hello, world!' }),
  afterValidMessage(2, 2, 'none'),
  afterValidMessage(3, 3, 'frames'),
  afterValidMessage(4, 4, 'octets'),
  alone(5, 5, 'a small binary message', { opcode: Opcode.Binary, payload: Buffer.from([0x00, 0xff, 0xfe, 0xfd]) }),
  alone(6, 6, 'a ping', { opcode: Opcode.Ping, payload: 'Hello, world!' }),
  alone(7, 7, 'a close frame with code 1000', { opcode: Opcode.Close, payload: Buffer.from([0x03, 0xe8]) }),
];
