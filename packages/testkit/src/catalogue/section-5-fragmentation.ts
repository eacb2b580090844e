import { Opcode } from '@ws/core';
import type { SendFrameOptions } from '../peer/frame-writer.js';
import { type Chopping, sendFrames } from './send-frames.js';
import type { ConformanceCase } from './conformance-case.js';
import { type Expected, judgeEcho, judgeFailure, pong, text } from './judgement.js';
import { RfcQuote } from './rfc-quote.js';

const CHOPPING_WORDS: Readonly<Record<Chopping, string>> = {
  none: '',
  frames: ', each frame written separately',
  octets: ', written byte by byte',
};

const textFrame = (payload: string, fin: boolean): SendFrameOptions => ({ opcode: Opcode.Text, payload, fin });
const continuation = (payload: string, fin: boolean): SendFrameOptions => ({ opcode: Opcode.Continuation, payload, fin });
const ping = (payload: string): SendFrameOptions => ({ opcode: Opcode.Ping, payload });

function echoCase(
  id: string,
  description: string,
  rfc: string,
  frames: readonly SendFrameOptions[],
  expected: readonly Expected[],
  chopping: Chopping,
): ConformanceCase {
  return {
    id,
    section: 5,
    description: `${description}${CHOPPING_WORDS[chopping]}; expect ${expected.length === 1 ? 'the message echoed' : 'the pong, then the message echoed'}.`,
    rfc,
    async run(context) {
      const peer = await context.open();
      await sendFrames(peer, frames, chopping);
      return judgeEcho(context, expected);
    },
  };
}

function failureCase(
  id: string,
  description: string,
  rfc: string,
  frames: readonly SendFrameOptions[],
  chopping: Chopping,
  before: readonly Expected[] = [],
): ConformanceCase {
  return {
    id,
    section: 5,
    description: `${description}${CHOPPING_WORDS[chopping]}; expect ${before.length > 0 ? 'the first message echoed, then ' : ''}the connection failed with 1002.`,
    rfc,
    async run(context) {
      const peer = await context.open();
      await sendFrames(peer, frames, chopping);
      return judgeFailure(context, { codes: [1002], before, nonStrictBefore: before.length > 0 ? [[]] : [] });
    },
  };
}

const choppings: readonly Chopping[] = ['none', 'octets', 'frames'];
const continuationThenText = (fin: boolean) => [continuation('fragment1', fin), textFrame('fragment2', true)];

/** Section 5: fragmentation. */
export const section5: readonly ConformanceCase[] = [
  failureCase('5.1', 'Send a ping fragmented into 2 frames', RfcQuote.controlFrameLength, [
    { opcode: Opcode.Ping, payload: 'fragment1', fin: false },
    continuation('fragment2', true),
  ], 'none'),
  failureCase('5.2', 'Send a pong fragmented into 2 frames', RfcQuote.controlFrameLength, [
    { opcode: Opcode.Pong, payload: 'fragment1', fin: false },
    continuation('fragment2', true),
  ], 'none'),
  ...choppings.map((chopping, index) =>
    echoCase(
      `5.${3 + index}`,
      'Send a text message fragmented into 2 frames',
      RfcQuote.fragmentation,
      [textFrame('fragment1', false), continuation('fragment2', true)],
      [text('fragment1fragment2')],
      chopping,
    ),
  ),
  ...choppings.map((chopping, index) =>
    echoCase(
      `5.${6 + index}`,
      'Send a text message fragmented into 2 frames with a ping between them',
      RfcQuote.controlInFragments,
      [textFrame('fragment1', false), ping('pongme!'), continuation('fragment2', true)],
      [pong('pongme!'), text('fragment1fragment2')],
      chopping,
    ),
  ),
  ...choppings.map((chopping, index) =>
    failureCase(
      `5.${9 + index}`,
      'Send a continuation frame with FIN set where there is nothing to continue, then a text message',
      RfcQuote.fragmentation,
      continuationThenText(true),
      chopping,
    ),
  ),
  ...choppings.map((chopping, index) =>
    failureCase(
      `5.${12 + index}`,
      'Send a continuation frame without FIN where there is nothing to continue, then a text message',
      RfcQuote.fragmentation,
      continuationThenText(false),
      chopping,
    ),
  ),
  failureCase(
    '5.15',
    'Send a text message in 2 fragments, then a continuation frame without FIN where there is nothing to continue, then a text message',
    RfcQuote.fragmentation,
    [textFrame('fragment1', false), continuation('fragment2', true), continuation('fragment3', false), textFrame('fragment4', true)],
    'none',
    [text('fragment1fragment2')],
  ),
  failureCase(
    '5.16',
    'Twice: a continuation frame without FIN where there is nothing to continue, a text message in 2 fragments, a final continuation frame',
    RfcQuote.fragmentation,
    [0, 1].flatMap(() => [continuation('fragment1', false), textFrame('fragment2', false), continuation('fragment3', true)]),
    'none',
  ),
  failureCase(
    '5.17',
    'Twice: a continuation frame with FIN where there is nothing to continue, a text message in 2 fragments, a final continuation frame',
    RfcQuote.fragmentation,
    [0, 1].flatMap(() => [continuation('fragment1', true), textFrame('fragment2', false), continuation('fragment3', true)]),
    'none',
  ),
  failureCase(
    '5.18',
    'Send a text message in 2 fragments where both frames have the text opcode',
    RfcQuote.fragmentsSameType,
    [textFrame('fragment1', false), textFrame('fragment2', true)],
    'none',
  ),
  ...(['none', 'frames'] as const).map(
    (chopping, index): ConformanceCase => ({
      id: `5.${19 + index}`,
      section: 5,
      description:
        'Send a text message in 5 fragments: 2 fragments, a ping, a pause, 2 more fragments, another ping, the last fragment' +
        `${CHOPPING_WORDS[chopping]}; expect both pongs, then the message echoed.`,
      rfc: RfcQuote.controlInFragments,
      async run(context) {
        const peer = await context.open();
        await sendFrames(peer, [textFrame('fragment1', false), continuation('fragment2', false), ping('pongme 1!')], chopping);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await sendFrames(
          peer,
          [continuation('fragment3', false), continuation('fragment4', false), ping('pongme 2!'), continuation('fragment5', true)],
          chopping,
        );
        return judgeEcho(context, [pong('pongme 1!'), pong('pongme 2!'), text('fragment1fragment2fragment3fragment4fragment5')]);
      },
    }),
  ),
];
