import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ClientProtocol, encodeFrame, isValidCloseCode, type Protocol, ServerProtocol } from '@ws/core';
import { closeCodeIn } from '../../test/wire.js';

/** A small deterministic PRNG (mulberry32) so that a failure reproduces from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const maskKey = Buffer.from([0x11, 0x22, 0x33, 0x44]);

/** A plausible stream: valid frames of both directions' kinds, then mutated bytes. */
function stream(next: () => number, masked: boolean): Buffer {
  const frames: Buffer[] = [];
  const count = 1 + Math.floor(next() * 4);
  for (let index = 0; index < count; index++) {
    const opcode = [0, 1, 2, 8, 9, 10, 3, 11][Math.floor(next() * 8)]!;
    const length = [0, 1, 2, 5, 125, 126, 300][Math.floor(next() * 7)]!;
    const payload = Buffer.alloc(length);
    for (let byte = 0; byte < length; byte++) payload[byte] = next() < 0.8 ? 0x61 : Math.floor(next() * 256);
    frames.push(encodeFrame({ fin: next() < 0.8, opcode, payload, maskKey: masked ? maskKey : undefined, rsv1: next() < 0.05 }));
  }
  const bytes = Buffer.concat(frames);
  const mutations = Math.floor(next() * 4);
  for (let index = 0; index < mutations && bytes.length > 0; index++) {
    bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
  }
  return bytes;
}

function run(protocol: Protocol, bytes: Buffer, next: () => number): Buffer[] {
  const output: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const size = 1 + Math.floor(next() * 16);
    protocol.receiveData(bytes.subarray(offset, offset + size));
    for (const data of protocol.dataToSend()) if (Buffer.isBuffer(data)) output.push(data);
    protocol.eventsReceived();
    protocol.outputDrained();
    offset += size;
  }
  protocol.receiveEof();
  return output;
}

describe('fuzzing both roles with random and mutated byte streams', () => {
  it('never throws, always closes with a valid code, and keeps memory bounded (100k streams)', () => {
    const next = random(0x5eed);
    const before = process.memoryUsage().heapUsed;
    for (let iteration = 0; iteration < 100_000; iteration++) {
      const isServer = (iteration & 1) === 0;
      const protocol = isServer
        ? new ServerProtocol({ maxMessageSize: 4096 })
        : new ClientProtocol({ maxMessageSize: 4096, maskKeySource: () => maskKey });
      const bytes = stream(next, isServer);
      const output = run(protocol, bytes, next);
      if (protocol.protocolError !== undefined) {
        const sent = closeCodeIn(Buffer.concat(output));
        expect(sent).toBe(protocol.protocolError.closeCode);
        expect(isValidCloseCode(sent!)).toBe(true);
      }
    }
    // Nothing is retained across connections: 100k protocols leave no more than a few MiB behind.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});
