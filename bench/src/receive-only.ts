/**
 * The receiving side alone, without a socket: how long `@ws/core`'s `ServerProtocol` and `ws`'s
 * `Receiver` take to turn masked client frames into messages, fed the same 64 KiB chunks (Node's
 * read size) in one process. It separates the cost of the protocol from the cost of the socket
 * layer that the echo section measures together.
 *
 *   pnpm --filter bench bench:receive
 *
 * Method: 64 MiB of masked binary frames of each size, cut into 64 KiB chunks that straddle the
 * frames as socket reads do, made before the clock starts (fresh chunks for every round: one side
 * unmasks in place); the two implementations alternate, 15 rounds each; the median and the range
 * of microseconds per message are printed. Every message's length and last byte are checked.
 * Run it with nothing else on the machine and with glibc's thresholds fixed (bench/README.md,
 * "Why large-message rows swing") or the allocator's page faults dominate the spread.
 */
import { Buffer } from 'node:buffer';
import { Opcode, ServerProtocol } from '@ws/core';
import * as ws from 'ws';
import { median } from './measurement.js';
import { maskedFrame } from './raw-peer.js';

/** `ws`'s frame parser: a named export of its ES module, absent from its type declarations. */
interface WsReceiver {
  write(chunk: Buffer): boolean;
  on(event: 'message', listener: (data: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => WsReceiver };

const READ_SIZE = 64 * 1024;
const BYTES_PER_ROUND = 64 * 1024 * 1024;
const ROUNDS = 15;
const FILL = 0x5a;

/** The round's input: `count` frames, as fresh 64 KiB reads. */
function reads(frame: Buffer, count: number): Buffer[] {
  const wire = Buffer.concat(Array.from({ length: count }, () => frame));
  const chunks: Buffer[] = [];
  for (let at = 0; at < wire.length; at += READ_SIZE) chunks.push(Buffer.from(wire.subarray(at, at + READ_SIZE)));
  return chunks;
}

function check(message: Buffer, size: number, implementation: string): void {
  if (message.length !== size || message[size - 1] !== FILL) {
    throw new Error(`${implementation} delivered a wrong message (${message.length} bytes)`);
  }
}

/** Microseconds per message for `@ws/core`. */
function timeOurs(chunks: readonly Buffer[], size: number, count: number): number {
  const protocol = new ServerProtocol({ maxMessageSize: size, maxFrameSize: size });
  let received = 0;
  const start = process.hrtime.bigint();
  for (const chunk of chunks) {
    protocol.receiveData(chunk);
    for (const event of protocol.eventsReceived()) {
      if (event.type !== 'message') throw new Error(`@ws/core reported ${event.type}`);
      check(event.data, size, '@ws/core');
      received++;
    }
  }
  const elapsed = Number(process.hrtime.bigint() - start);
  if (received !== count) throw new Error(`@ws/core delivered ${received} of ${count} messages`);
  return elapsed / count / 1000;
}

/** Microseconds per message for `ws` (with `bufferutil` when installed, as its own users get it). */
function timeWs(chunks: readonly Buffer[], size: number, count: number): number {
  const receiver = new Receiver({ isServer: true, maxPayload: size });
  let received = 0;
  receiver.on('message', (data: Buffer) => {
    check(data, size, 'ws');
    received++;
  });
  receiver.on('error', (error: Error) => {
    throw error;
  });
  const start = process.hrtime.bigint();
  for (const chunk of chunks) receiver.write(chunk);
  const elapsed = Number(process.hrtime.bigint() - start);
  if (received !== count) throw new Error(`ws delivered ${received} of ${count} messages`);
  return elapsed / count / 1000;
}

function describe(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${median(sorted).toFixed(1)} (${sorted[0]!.toFixed(1)}–${sorted.at(-1)!.toFixed(1)})`;
}

console.log(`Receiving only: ${ROUNDS} alternating rounds of 64 MiB in ${READ_SIZE / 1024} KiB reads; µs per message, median (range)\n`);
console.log('| message size | @ws/core ServerProtocol | ws Receiver | ratio (ws / ours) |');
console.log('|---|---:|---:|---:|');
for (const size of [64 * 1024, 1024 * 1024]) {
  const frame = maskedFrame({ opcode: Opcode.Binary, payload: Buffer.alloc(size, FILL) });
  const count = BYTES_PER_ROUND / size;
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(timeOurs(reads(frame, count), size, count));
    theirs.push(timeWs(reads(frame, count), size, count));
  }
  const label = size >= 1024 * 1024 ? `${size / (1024 * 1024)} MiB` : `${size / 1024} KiB`;
  console.log(`| ${label} | ${describe(ours)} | ${describe(theirs)} | ${(median(theirs) / median(ours)).toFixed(2)}× |`);
}
