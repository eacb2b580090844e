import { Buffer } from 'node:buffer';
import { Opcode } from '@ws/core';
import type { SendFrameOptions } from '../peer/frame-writer.js';
import { sendFrames } from './send-frames.js';
import type { ConformanceCase } from './conformance-case.js';
import { judgeEcho, judgeFailure, pong } from './judgement.js';
import type { TrafficEvent } from './peer-observer.js';
import { RfcQuote } from './rfc-quote.js';

const BINARY_PAYLOAD = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);

function pingCase(index: number, description: string, payload: Uint8Array | string, chop?: number): ConformanceCase {
  return {
    id: `2.${index}`,
    section: 2,
    description,
    rfc: `${RfcQuote.ping} ${RfcQuote.pongPayload}`,
    async run(context) {
      const peer = await context.open();
      await peer.sendPing(payload, chop === undefined ? {} : { chop, delay: 1 });
      return judgeEcho(context, [pong(payload)]);
    },
  };
}

function unsolicitedPongCase(index: number, description: string, payload: string, thenPing?: string): ConformanceCase {
  return {
    id: `2.${index}`,
    section: 2,
    description,
    rfc: `${RfcQuote.unsolicitedPong}${thenPing === undefined ? '' : ` ${RfcQuote.ping}`}`,
    async run(context) {
      const peer = await context.open();
      await peer.sendPong(payload);
      if (thenPing !== undefined) await peer.sendPing(thenPing);
      return judgeEcho(context, thenPing === undefined ? [] : [pong(thenPing)]);
    },
  };
}

/** Pongs for some of the pings, in order, ending with the last one: what RFC 6455 §5.5.3 allows. */
function latestPongsOnly(payloads: readonly string[]): (traffic: readonly TrafficEvent[]) => string | undefined {
  return (traffic) => {
    let next = 0;
    for (const event of traffic) {
      if (event.type !== 'pong') return undefined;
      while (next < payloads.length && !event.payload.equals(Buffer.from(payloads[next]!))) next++;
      if (next === payloads.length) return undefined;
      next++;
    }
    return traffic.length > 0 && next === payloads.length
      ? 'answered only some pings, the most recent last (RFC 6455 §5.5.3 allows it)'
      : undefined;
  };
}

function tenPingsCase(index: number, chopped: boolean): ConformanceCase {
  const payloads = Array.from({ length: 10 }, (_, ping) => `payload-${ping}`);
  return {
    id: `2.${index}`,
    section: 2,
    description: `Send 10 pings with payloads${chopped ? ', written byte by byte' : ''}; expect 10 pongs with the same payloads, in order.`,
    rfc: `${RfcQuote.ping} ${RfcQuote.latestPing}`,
    async run(context) {
      const peer = await context.open();
      const frames: SendFrameOptions[] = payloads.map((payload) => ({ opcode: Opcode.Ping, payload }));
      await sendFrames(peer, frames, chopped ? 'octets' : 'none');
      return judgeEcho(context, payloads.map((payload) => pong(payload)), { nonStrict: latestPongsOnly(payloads) });
    },
  };
}

/** Section 2: pings and pongs. */
export const section2: readonly ConformanceCase[] = [
  pingCase(1, 'Send a ping without payload; expect a pong without payload.', ''),
  pingCase(2, 'Send a ping with a small text payload; expect a pong with the same payload.', 'Hello, world!'),
  pingCase(3, 'Send a ping with a small binary payload; expect a pong with the same payload.', BINARY_PAYLOAD),
  pingCase(4, 'Send a ping with a 125-byte binary payload (the largest allowed); expect a pong with the same payload.', Buffer.alloc(125, 0xfe)),
  {
    id: '2.5',
    section: 2,
    description: 'Send a ping with a 126-byte payload (over the control frame limit); expect the connection failed with 1002.',
    rfc: RfcQuote.controlFrameLength,
    async run(context) {
      const peer = await context.open();
      await peer.sendPing(Buffer.alloc(126, 0xfe));
      return judgeFailure(context, { codes: [1002] });
    },
  },
  pingCase(6, 'Send a ping with a 125-byte payload written byte by byte; expect a pong with the same payload.', Buffer.alloc(125, 0xfe), 1),
  unsolicitedPongCase(7, 'Send an unsolicited pong without payload; expect nothing in reply, then a normal close.', ''),
  unsolicitedPongCase(8, 'Send an unsolicited pong with a payload; expect nothing in reply, then a normal close.', 'unsolicited pong payload'),
  unsolicitedPongCase(
    9,
    'Send an unsolicited pong, then a ping; expect one pong answering the ping.',
    'unsolicited pong payload',
    'ping payload',
  ),
  tenPingsCase(10, false),
  tenPingsCase(11, true),
];
