import { Opcode } from '@ws/core';
import type { ConformanceCase } from './conformance-case.js';
import { judgeFailure, text } from './judgement.js';
import { RfcQuote } from './rfc-quote.js';

const PAYLOAD = 'reserved opcode payload';

function reservedOpcodeCase(group: 1 | 2, index: number, opcode: number): ConformanceCase {
  const kind = group === 1 ? 'non-control' : 'control';
  const opcodeText = `0x${opcode.toString(16)}`;
  // The shape Autobahn uses: the first two cases send the frame alone (without, then with a
  // payload); the other three send a valid message first and a ping after.
  const variant = index === 1 ? 'empty' : index === 2 ? 'payload' : 'between';
  return {
    id: `4.${group}.${index}`,
    section: 4,
    description:
      variant === 'between'
        ? `Send a valid text message, then a frame with the reserved ${kind} opcode ${opcodeText} and a payload, then a ping; ` +
          'expect the message echoed, then the connection failed with 1002 (and no pong).'
        : `Send a frame with the reserved ${kind} opcode ${opcodeText}${variant === 'payload' ? ' and a payload' : ''}; ` +
          'expect the connection failed with 1002.',
    rfc: RfcQuote.reservedOpcode,
    async run(context) {
      const peer = await context.open();
      if (variant !== 'between') {
        await peer.sendFrame({ opcode, payload: variant === 'payload' ? PAYLOAD : '' });
        return judgeFailure(context, { codes: [1002] });
      }
      await peer.sendFrames([
        { opcode: Opcode.Text, payload: 'Hello, world!' },
        { opcode, payload: PAYLOAD },
        { opcode: Opcode.Ping, payload: '' },
      ]);
      return judgeFailure(context, { codes: [1002], before: [text('Hello, world!')], nonStrictBefore: [[]] });
    },
  };
}

/** Section 4: reserved opcodes, 0x3-0x7 (4.1) and 0xB-0xF (4.2). */
export const section4: readonly ConformanceCase[] = [
  ...[3, 4, 5, 6, 7].map((opcode, index) => reservedOpcodeCase(1, index + 1, opcode)),
  ...[11, 12, 13, 14, 15].map((opcode, index) => reservedOpcodeCase(2, index + 1, opcode)),
];
