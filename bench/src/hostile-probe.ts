/**
 * The well-behaved probe of the hostile-load benchmark, in its own process (beside the attacker,
 * on the load core): one connection to `/probe` that sends a 16-byte binary message every 20 ms,
 * answers the server's pings, and times each echo.
 *
 *   node dist/hostile/hostile-probe.js '{"port":N}'
 *
 * Prints `{"ready":true}` once connected; on a `stop` line on stdin, prints its figures and
 * exits: the round trips (worst, p50, p99), how many messages went unanswered and the age of
 * the oldest of them (a lower bound of its round trip), and the close code if the server closed it.
 */
import { Buffer } from 'node:buffer';
import { createInterface } from 'node:readline';
import { Opcode } from '@ws/core';
import { closeCodeOf, maskedFrame, openRawPeer, ServerFrameReader } from './raw-peer.js';

export interface ProbeReport {
  readonly sent: number;
  readonly answered: number;
  readonly worstMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Messages without an echo after 100 ms when the probe stopped. */
  readonly unanswered: number;
  /** Age of the oldest message still unanswered at `stop`: its round trip is at least this. */
  readonly oldestUnansweredMs: number;
  /** How the server ended the probe's connection, if it did. */
  readonly closed?: string;
}

const INTERVAL_MS = 20;
const UNANSWERED_AFTER_MS = 100;
const { port } = JSON.parse(process.argv[2]!) as { port: number };
const { socket, rest } = await openRawPeer(port, { path: '/probe' });
const reader = new ServerFrameReader();
const sentAt = new Map<number, number>();
const roundTrips: number[] = [];
let sequence = 0;
let closed: string | undefined;

function onData(chunk: Buffer): void {
  for (const frame of reader.push(chunk)) {
    if (frame.opcode === Opcode.Binary && frame.payload.length === 16) {
      const number = frame.payload.readUInt32BE(0);
      const start = sentAt.get(number);
      if (start === undefined) continue;
      sentAt.delete(number);
      roundTrips.push(performance.now() - start);
    } else if (frame.opcode === Opcode.Ping) {
      socket.write(maskedFrame({ opcode: Opcode.Pong, payload: frame.payload }));
    } else if (frame.opcode === Opcode.Close) {
      closed ??= `close ${closeCodeOf(frame.payload)}`;
    }
  }
}

socket.on('data', onData);
socket.on('error', (error: Error & { code?: string }) => {
  closed ??= error.code ?? error.message;
});
socket.on('close', () => {
  closed ??= 'closed without a close frame';
});
if (rest.length > 0) onData(rest);

const timer = setInterval(() => {
  if (socket.destroyed) return;
  sequence++;
  const payload = Buffer.alloc(16);
  payload.writeUInt32BE(sequence, 0);
  sentAt.set(sequence, performance.now());
  socket.write(maskedFrame({ opcode: Opcode.Binary, payload }));
}, INTERVAL_MS);

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

createInterface({ input: process.stdin }).once('line', () => {
  clearInterval(timer);
  const sorted = [...roundTrips].sort((a, b) => a - b);
  const at = (fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
  const stoppedAt = performance.now();
  let oldest = 0;
  let unanswered = 0;
  for (const start of sentAt.values()) {
    oldest = Math.max(oldest, stoppedAt - start);
    // The last message or two are still in flight at any moment: only a late one counts.
    if (stoppedAt - start > UNANSWERED_AFTER_MS) unanswered++;
  }
  const report: ProbeReport = {
    sent: sequence,
    answered: roundTrips.length,
    worstMs: sorted.at(-1) ?? Number.NaN,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    unanswered,
    oldestUnansweredMs: oldest,
    ...(closed === undefined ? {} : { closed }),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  socket.destroy();
  process.exit(0);
});
