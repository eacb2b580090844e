import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReadGate, ReadPause } from './read-gate.js';

/** A transport that records what the gate asks of it. */
function transport(): Duplex & { calls: string[] } {
  const duplex = new Duplex({ read() {}, write(_chunk, _encoding, callback) { callback(); } }) as Duplex & { calls: string[] };
  duplex.calls = [];
  duplex.pause = () => {
    duplex.calls.push('pause');
    return duplex;
  };
  duplex.resume = () => {
    duplex.calls.push('resume');
    return duplex;
  };
  return duplex;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('ReadGate', () => {
  it('pauses while any reason holds and resumes when the last one is gone', () => {
    const socket = transport();
    const gate = new ReadGate(socket);
    gate.start();
    gate.set(ReadPause.Application, true);
    gate.set(ReadPause.Output, true);
    gate.set(ReadPause.Application, false);
    expect(gate.isPaused).toBe(true);
    gate.set(ReadPause.Output, false);
    expect(socket.calls).toEqual(['resume', 'pause', 'resume']);
    expect(gate.isPaused).toBe(false);
  });

  it('stops reading for the rest of the turn past 8 MiB, and reads again on the next', async () => {
    const socket = transport();
    const gate = new ReadGate(socket);
    gate.start();
    let chunks = 0;
    while (!gate.isPaused) {
      gate.spend(64 * 1024);
      chunks++;
    }
    expect(chunks).toBe(129);
    await nextTurn();
    expect(gate.isPaused).toBe(false);
    expect(socket.calls).toEqual(['resume', 'pause', 'resume']);
  });
});
