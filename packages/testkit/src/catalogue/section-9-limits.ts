import { Buffer } from 'node:buffer';
import { Opcode } from '@ws/core';
import type { ConformanceCase, Verdict } from './conformance-case.js';
import { binary, fail, judgeEcho, text } from './judgement.js';
import { RfcQuote } from './rfc-quote.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A printable pattern for text payloads (Autobahn's), repeated to the size. */
const TEXT_PATTERN = 'BAsd7&jh23';

/** Policy violation and message too big: how implementations refuse what exceeds their limits. */
const LIMIT_CODES = [1008, 1009] as const;

const payloadOf = (isText: boolean, size: number) => (isText ? Buffer.alloc(size, TEXT_PATTERN) : Buffer.alloc(size, 0xfe));

function sizeName(size: number): string {
  return size >= MiB ? `${size / MiB} MiB` : size >= KiB ? `${size / KiB} KiB` : `${size} bytes`;
}

/** Time allowed for a large message's round trip: the response timeout plus 5 s per MiB. */
const timeoutFor = (response: number, size: number) => response + Math.ceil(size / MiB) * 5000;

function slowCase(id: string, description: string, run: ConformanceCase['run']): ConformanceCase {
  return { id, section: 9, description, rfc: RfcQuote.limits, slow: true, run };
}

function withTiming(verdict: Verdict, started: number): Verdict {
  return { ...verdict, reason: `${verdict.reason}; ${Math.round(performance.now() - started)} ms` };
}

function largeMessage(group: 1 | 2, index: number, size: number): ConformanceCase {
  const isText = group === 1;
  return slowCase(
    `9.${group}.${index}`,
    `Send a ${isText ? 'text' : 'binary'} message of ${sizeName(size)}; expect it echoed.`,
    async (context) => {
      const peer = await context.open();
      const payload = payloadOf(isText, size);
      const started = performance.now();
      await peer.sendFrame({ opcode: isText ? Opcode.Text : Opcode.Binary, payload });
      const verdict = await judgeEcho(context, [isText ? text(payload) : binary(payload)], {
        timeout: timeoutFor(context.timeouts.response, size),
        limitCloseCodes: LIMIT_CODES,
      });
      return withTiming(verdict, started);
    },
  );
}

function fragmentedMessage(group: 3 | 4, index: number, fragmentSize: number): ConformanceCase {
  const isText = group === 3;
  const size = 4 * MiB;
  return slowCase(
    `9.${group}.${index}`,
    `Send a ${isText ? 'text' : 'binary'} message of 4 MiB in fragments of ${sizeName(fragmentSize)}; expect it echoed.`,
    async (context) => {
      const peer = await context.open();
      const payload = payloadOf(isText, size);
      const frames = [];
      for (let offset = 0; offset < size; offset += fragmentSize) {
        frames.push({
          opcode: offset === 0 ? (isText ? Opcode.Text : Opcode.Binary) : Opcode.Continuation,
          payload: payload.subarray(offset, offset + fragmentSize),
          fin: offset + fragmentSize >= size,
        });
      }
      const started = performance.now();
      await peer.sendFrames(frames);
      const verdict = await judgeEcho(context, [isText ? text(payload) : binary(payload)], {
        timeout: timeoutFor(context.timeouts.response, size),
        limitCloseCodes: LIMIT_CODES,
      });
      return withTiming(verdict, started);
    },
  );
}

function choppedMessage(group: 5 | 6, index: number, chop: number): ConformanceCase {
  const isText = group === 5;
  const size = MiB;
  return slowCase(
    `9.${group}.${index}`,
    `Send a ${isText ? 'text' : 'binary'} message of 1 MiB written in chops of ${chop} bytes; expect it echoed.`,
    async (context) => {
      const peer = await context.open();
      const payload = payloadOf(isText, size);
      const started = performance.now();
      await peer.sendFrame({ opcode: isText ? Opcode.Text : Opcode.Binary, payload, chop, delay: 0 });
      const verdict = await judgeEcho(context, [isText ? text(payload) : binary(payload)], {
        timeout: timeoutFor(context.timeouts.response, size),
        limitCloseCodes: LIMIT_CODES,
      });
      return withTiming(verdict, started);
    },
  );
}

function roundTrips(group: 7 | 8, index: number, size: number): ConformanceCase {
  const isText = group === 7;
  const count = 1000;
  return slowCase(
    `9.${group}.${index}`,
    `Send ${count} ${isText ? 'text' : 'binary'} messages of ${sizeName(size)}, each after the echo of the previous one; expect every echo.`,
    async (context) => {
      const peer = await context.open();
      const payload = payloadOf(isText, size);
      const started = performance.now();
      for (let round = 0; round < count; round++) {
        await peer.sendFrame({ opcode: isText ? Opcode.Text : Opcode.Binary, payload });
        const event = await context.observer.next(context.timeouts.response);
        if (event.type !== 'message' || event.binary === isText || !event.data.equals(payload)) {
          return fail(`round trip ${round + 1}: expected the echo, got ${event.type === 'message' ? 'a different message' : event.type}`);
        }
      }
      const elapsed = performance.now() - started;
      const verdict = await judgeEcho(context, []);
      return { ...verdict, reason: `${count} round trips, ${(elapsed / count).toFixed(3)} ms each; ${verdict.reason}` };
    },
  );
}

/** Section 9: large messages, many fragments, small writes and round trips. Slow: run on request. */
export const section9: readonly ConformanceCase[] = [
  ...([1, 2] as const).flatMap((group) =>
    [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB].map((size, index) => largeMessage(group, index + 1, size)),
  ),
  ...([3, 4] as const).flatMap((group) =>
    [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB].map((fragment, index) =>
      fragmentedMessage(group, index + 1, fragment),
    ),
  ),
  ...([5, 6] as const).flatMap((group) =>
    [64, 128, 256, 512, 1024, 2048].map((chop, index) => choppedMessage(group, index + 1, chop)),
  ),
  ...([7, 8] as const).flatMap((group) =>
    [0, 16, 64, 256, KiB, 4 * KiB].map((size, index) => roundTrips(group, index + 1, size)),
  ),
];
