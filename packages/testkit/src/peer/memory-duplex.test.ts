import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMemoryDuplexPair } from './memory-duplex.js';

describe('createMemoryDuplexPair', () => {
  it('delivers writes to the other end, in order, as copies', async () => {
    const [left, right] = createMemoryDuplexPair();
    const received: Buffer[] = [];
    right.on('data', (chunk: Buffer) => received.push(chunk));
    const source = Buffer.from('abc');
    left.write(source);
    source[0] = 0x7a;
    left.write(Buffer.from('def'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(received).toString()).toBe('abcdef');
  });

  it('carries a half-close as end of stream while the other direction stays open', async () => {
    const [left, right] = createMemoryDuplexPair();
    right.resume();
    left.end();
    await once(right, 'end');
    const received: Buffer[] = [];
    left.on('data', (chunk: Buffer) => received.push(chunk));
    right.write(Buffer.from('still open'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(Buffer.concat(received).toString()).toBe('still open');
  });

  it('destroys the other end when one is destroyed, like a dropped connection', async () => {
    const [left, right] = createMemoryDuplexPair();
    const closed = once(right, 'close');
    left.destroy();
    await closed;
    expect(right.destroyed).toBe(true);
  });

  it('fails writes once the connection is dropped', async () => {
    const [left, right] = createMemoryDuplexPair();
    right.destroy();
    const error = await new Promise<Error | null | undefined>((resolve) => left.write(Buffer.from('x'), resolve));
    expect(error).toBeInstanceOf(Error);
  });
});
