import { Buffer } from 'node:buffer';
import { ConnectionClosedError } from '@ws/core';
import { describe, expect, it } from 'vitest';
import { type InboxEntry, MessageInbox } from './message-inbox.js';

function createInbox(highWaterMark = 100) {
  const log: string[] = [];
  const inbox = new MessageInbox({
    highWaterMark,
    setFull: (full) => log.push(full ? 'pause' : 'resume'),
  });
  return { inbox, log };
}

function piece(text: string, flags: Partial<InboxEntry> = {}): InboxEntry {
  return { data: Buffer.from(text), isBinary: false, messageStart: false, messageEnd: false, ...flags };
}

const closed = new ConnectionClosedError(1006, '', false);

describe('MessageInbox', () => {
  it('yields each message as an async iterable of its pieces', async () => {
    const { inbox } = createInbox();
    const messages = inbox.messageStreams();
    inbox.push(piece('he', { messageStart: true }));
    inbox.push(piece('llo', { messageEnd: true }));
    inbox.push({ data: Buffer.from([1, 2]), isBinary: true, messageStart: true, messageEnd: true });
    inbox.end(new ConnectionClosedError(1000, '', true), false);
    const received: { isBinary: boolean; chunks: string[] }[] = [];
    for await (const message of messages) {
      const chunks: string[] = [];
      for await (const chunk of message) chunks.push(chunk.toString('hex'));
      received.push({ isBinary: message.isBinary, chunks });
    }
    expect(received).toEqual([
      { isBinary: false, chunks: [Buffer.from('he').toString('hex'), Buffer.from('llo').toString('hex')] },
      { isBinary: true, chunks: ['0102'] },
    ]);
  });

  it('delivers pieces that arrive while the consumer waits', async () => {
    const { inbox } = createInbox();
    const iterator = inbox.messageStreams();
    const first = iterator.next();
    inbox.push(piece('a', { messageStart: true }));
    const message = (await first).value!;
    const text = message.text();
    inbox.push(piece('b'));
    inbox.push(piece('c', { messageEnd: true }));
    expect(await text).toBe('abc');
    await iterator.return();
  });

  it('stops reading above the high-water mark and reads again under half of it', async () => {
    const { inbox, log } = createInbox(10);
    const iterator = inbox.messageStreams();
    inbox.push(piece('123456', { messageStart: true }));
    expect(log).toEqual([]);
    inbox.push(piece('789012'));
    expect(log).toEqual(['pause']);
    inbox.push(piece('345', { messageEnd: true }));
    expect(inbox.queuedBytes).toBe(15);
    const message = (await iterator.next()).value!;
    const chunks = message[Symbol.asyncIterator]();
    await chunks.next();
    expect(log).toEqual(['pause']);
    await chunks.next();
    expect(inbox.queuedBytes).toBe(3);
    expect(log).toEqual(['pause', 'resume']);
    await iterator.return();
  });

  it('skips the rest of a message the consumer did not read', async () => {
    const { inbox } = createInbox();
    const iterator = inbox.messageStreams();
    inbox.push(piece('skip', { messageStart: true }));
    inbox.push(piece('ped'));
    await iterator.next();
    const next = iterator.next();
    inbox.push(piece('!', { messageEnd: true }));
    inbox.push(piece('kept', { messageStart: true, messageEnd: true }));
    expect(await (await next).value!.text()).toBe('kept');
    await iterator.return();
  });

  it('throws from a message cut short by the close, and then ends', async () => {
    const { inbox } = createInbox();
    const iterator = inbox.messageStreams();
    inbox.push(piece('whole', { messageStart: true, messageEnd: true }));
    inbox.push(piece('cut', { messageStart: true }));
    inbox.end(closed, false);
    expect(await (await iterator.next()).value!.text()).toBe('whole');
    const cut = (await iterator.next()).value!;
    await expect(cut.text()).rejects.toBe(closed);
    expect((await iterator.next()).done).toBe(true);
  });

  it('resumes reading and queues nothing once the consumer breaks out', async () => {
    const { inbox, log } = createInbox(4);
    const messages = inbox.messageStreams();
    inbox.push(piece('12345', { messageStart: true, messageEnd: true }));
    expect(log).toEqual(['pause']);
    for await (const message of messages) {
      expect(message.isBinary).toBe(false);
      break;
    }
    expect(log).toEqual(['pause', 'resume']);
    expect(inbox.isActive).toBe(false);
    inbox.push(piece('later', { messageStart: true, messageEnd: true }));
    expect(inbox.queuedBytes).toBe(0);
  });

  it('drops the tail of a message that began before the iteration', async () => {
    const { inbox } = createInbox();
    const messages = inbox.messageStreams();
    inbox.push(piece('tail', { messageEnd: true }));
    inbox.push(piece('next', { messageStart: true, messageEnd: true }));
    inbox.end(closed, false);
    const texts: string[] = [];
    for await (const message of messages) texts.push(await message.text());
    expect(texts).toEqual(['next']);
  });

  it('queues nothing before an iteration starts, and ends a failed connection by throwing', async () => {
    const { inbox } = createInbox();
    inbox.push(piece('early', { messageStart: true, messageEnd: true }));
    expect(inbox.queuedBytes).toBe(0);
    const messages = inbox.messages();
    inbox.push(piece('late', { messageStart: true, messageEnd: true }));
    inbox.end(closed, true);
    expect(await messages.next()).toEqual({ value: 'late', done: false });
    await expect(messages.next()).rejects.toBe(closed);
  });
});
