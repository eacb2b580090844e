import { Buffer } from 'node:buffer';
import { ClientProtocol, ConnectionState, type Protocol, ServerProtocol } from '@ws/core';
import { encodePeerFrame } from './encode-peer-frame.js';
import { FuzzFailure, Invariant } from './fuzz-failure.js';
import type { ProtocolChecker } from './protocol-checker.js';
import type { RandomSource } from './random-source.js';
import { randomBinary, randomBytes, randomText, splitPoints } from './random-payload.js';
import { SentOutputChecker } from './sent-output-checker.js';

/** Codes an application closes with: the usual ones, the edges of the ranges, and no code at all. */
const APPLICATION_CLOSE_CODES = [undefined, 1000, 1001, 1003, 1011, 3000, 4999] as const;

/** Lengths on both sides of the frame writer's 8 KiB coalescing limit and the 1 KiB deflate threshold. */
function sendLength(random: RandomSource): number {
  return random.weighted<() => number>([
    [60, () => random.below(64)],
    [25, () => random.between(64, 2048)],
    [15, () => random.between(8000, 20_000)],
  ])();
}

/** A string with lone surrogates: `Buffer.from` and the frame writer both send them as U+FFFD. */
function withLoneSurrogates(random: RandomSource, text: string): string {
  const at = random.below(text.length + 1);
  return `${text.slice(0, at)}${random.pick(['\ud800', '\udfff', '\udc00\ud800'])}${text.slice(at)}`;
}

/**
 * Another connection's writes between two of this one's, before either output is taken, as
 * when a message handler sends to several connections: all of them claim the one shared
 * output slab, and each must still get exactly its own frames.
 */
function interleavedSends(random: RandomSource, checker: ProtocolChecker, sendForbidden: boolean): void {
  const side = checker.protocol.side;
  const bystander: Protocol =
    side === 'server' ? new ServerProtocol() : new ClientProtocol({ maskKeySource: () => randomBytes(random, 4) });
  const bystanderOutput = new SentOutputChecker(side, undefined);
  const parts = [randomBinary(random, sendLength(random)), randomBinary(random, sendLength(random))];
  const others = [randomBinary(random, random.below(200)), randomBinary(random, sendLength(random))];
  let bystanderSends = 0;
  checker.application(
    "sendBinary between another connection's sends",
    () => {
      bystander.sendBinary(others[bystanderSends++]!);
      checker.protocol.sendBinary(parts[0]!);
      bystander.sendBinary(others[bystanderSends++]!);
      checker.protocol.sendBinary(parts[1]!);
    },
    sendForbidden,
    () => {
      for (const part of parts) checker.output.expectMessage(part, true);
    },
  );
  for (const other of others.slice(0, bystanderSends)) bystanderOutput.expectMessage(other, true);
  bystanderOutput.check(bystander.dataToSend());
  bystanderOutput.finish();
}

/**
 * `sendRaw`: a frame serialized once for many connections (uncompressed, so any connection may
 * get it), written as given.
 */
function rawSend(random: RandomSource, checker: ProtocolChecker, sendForbidden: boolean): void {
  const data = randomBinary(random, sendLength(random));
  const frame = encodePeerFrame({
    fin: true,
    rsv: 0,
    opcode: 0x2,
    payload: data,
    maskKey: checker.protocol.side === 'client' ? randomBytes(random, 4) : undefined,
  });
  checker.application(
    'sendRaw',
    () => checker.protocol.sendRaw(frame),
    sendForbidden,
    () => checker.output.expectMessage(data, true),
  );
}

/** The frame writer "never mutates a caller's payload", masking included. */
function untouched(data: Buffer, copy: Buffer): void {
  if (!data.equals(copy)) throw new FuzzFailure(Invariant.Memory, 'A send changed the bytes the application passed');
}

/**
 * One thing the application does between two reads, chosen at random: send a message (maybe
 * fragmented, maybe compressed), a ping, close, answer a held close, or let the output drain.
 * Sends in a state that forbids them must be refused with InvalidStateError and write nothing.
 */
export function randomApplicationAction(random: RandomSource, checker: ProtocolChecker): void {
  const protocol = checker.protocol;
  const sendForbidden = protocol.closeSent || protocol.state !== ConnectionState.Open;
  const kind = random.weighted([
    [30, 'drain'],
    [10, 'ping'],
    [20, 'message'],
    [8, 'fragmented'],
    [4, 'interleaved'],
    [3, 'raw'],
    [8, 'close'],
    [4, 'close-echo'],
  ] as const);
  switch (kind) {
    case 'drain':
      checker.drain();
      break;
    case 'ping': {
      const data = randomBytes(random, random.below(126));
      checker.application(
        'sendPing',
        () => protocol.sendPing(data),
        sendForbidden,
        () => checker.output.expectPing(data),
      );
      break;
    }
    case 'message': {
      const isBinary = random.chance(0.4);
      const data = isBinary ? randomBinary(random, sendLength(random)) : randomText(random, sendLength(random));
      const compress = random.chance(0.8);
      const copy = Buffer.from(data);
      if (!isBinary && random.chance(0.5)) {
        const text = random.chance(0.2) ? withLoneSurrogates(random, data.toString('utf8')) : data.toString('utf8');
        const sent = () => protocol.sendText(text, { compress });
        checker.application('sendText', sent, sendForbidden, () =>
          checker.output.expectMessage(Buffer.from(text, 'utf8'), false),
        );
        break;
      }
      checker.application(
        isBinary ? 'sendBinary' : 'sendText',
        () => (isBinary ? protocol.sendBinary(data, { compress }) : protocol.sendText(data, { compress })),
        sendForbidden,
        () => checker.output.expectMessage(copy, isBinary),
      );
      untouched(data, copy);
      break;
    }
    case 'interleaved':
      interleavedSends(random, checker, sendForbidden);
      break;
    case 'raw':
      rawSend(random, checker, sendForbidden);
      break;
    case 'fragmented': {
      const isBinary = random.chance(0.4);
      const data = isBinary ? randomBinary(random, sendLength(random)) : randomText(random, sendLength(random));
      const copy = Buffer.from(data);
      const points = splitPoints(random, data.length, random.between(2, 4));
      checker.application(
        'fragmented send',
        () => {
          for (let index = 1; index < points.length; index++) {
            const part = data.subarray(points[index - 1], points[index]);
            const fin = index === points.length - 1;
            if (index > 1) protocol.sendContinuation(part, { fin });
            else if (isBinary) protocol.sendBinary(part, { fin });
            else protocol.sendText(part, { fin });
          }
        },
        sendForbidden,
        () => checker.output.expectMessage(copy, isBinary),
      );
      untouched(data, copy);
      break;
    }
    case 'close': {
      const code = random.pick(APPLICATION_CLOSE_CODES);
      const reason =
        code === undefined ? '' : randomText(random, random.chance(0.8) ? random.below(20) : 123).toString('utf8');
      const refused = protocol.closeSent || protocol.state === ConnectionState.Closed;
      checker.application(
        'sendClose',
        () => protocol.sendClose(code, reason),
        refused,
        () => undefined,
        { code },
      );
      break;
    }
    case 'close-echo':
      checker.sendCloseEcho();
      break;
  }
}
