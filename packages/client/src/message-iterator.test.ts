import { Buffer } from 'node:buffer';
import { ConnectionClosedError } from '@ws/core';
import { describe, expect, test } from 'vitest';
import { createMessageIterator, type MessageSource } from './message-iterator.js';

function fakeSource(maxQueuedMessages = 4) {
  let onMessage: ((data: Buffer, isBinary: boolean) => void) | undefined;
  let onEnd: (() => void) | undefined;
  const state = {
    backpressure: [] as boolean[],
    failure: undefined as Error | undefined,
    attached: false,
    ended: false,
  };
  const source: MessageSource = {
    maxQueuedMessages,
    subscribe(message, end) {
      if (state.ended) return undefined;
      onMessage = message;
      onEnd = end;
      state.attached = true;
      return () => {
        state.attached = false;
      };
    },
    endFailure: () => state.failure,
    setBackpressure: (_token, full) => state.backpressure.push(full),
  };
  return {
    source,
    state,
    deliver: (text: string, isBinary = false) => onMessage!(Buffer.from(text), isBinary),
    end: (failure?: Error) => {
      state.ended = true;
      state.failure = failure;
      onEnd!();
    },
  };
}

describe('createMessageIterator', () => {
  test('yields text as strings and binary as Buffers, in order, whether queued or awaited', async () => {
    const { source, deliver } = fakeSource();
    const iterator = createMessageIterator(source);
    deliver('queued');
    const pending = iterator.next();
    expect(await pending).toEqual({ value: 'queued', done: false });
    const awaited = iterator.next();
    deliver('bytes', true);
    expect(await awaited).toEqual({ value: Buffer.from('bytes'), done: false });
  });

  test('asks for backpressure at maxQueuedMessages and releases it at a quarter', async () => {
    const { source, state, deliver } = fakeSource(8);
    const iterator = createMessageIterator(source);
    for (let index = 0; index < 10; index++) deliver(`m${index}`);
    expect(state.backpressure).toEqual([true]);
    for (let index = 0; index < 7; index++) await iterator.next();
    expect(state.backpressure).toEqual([true]);
    await iterator.next();
    expect(state.backpressure).toEqual([true, false]);
  });

  test('drains the queue, then ends normally or throws the source failure', async () => {
    const normal = fakeSource();
    const first = createMessageIterator(normal.source);
    normal.deliver('last');
    normal.end();
    expect(await first.next()).toEqual({ value: 'last', done: false });
    expect(await first.next()).toEqual({ value: undefined, done: true });

    const failing = fakeSource();
    const second = createMessageIterator(failing.source);
    const waiting = second.next();
    failing.end(new ConnectionClosedError(1006, '', false));
    await expect(waiting).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(second.next()).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test('return() detaches, drops the queue and releases backpressure', async () => {
    const { source, state, deliver } = fakeSource(2);
    const iterator = createMessageIterator(source);
    deliver('a');
    deliver('b');
    expect(state.backpressure).toEqual([true]);
    expect(await iterator.return!()).toEqual({ value: undefined, done: true });
    expect(state).toMatchObject({ attached: false, backpressure: [true, false] });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  test('an iterator over an ended source is done at once', async () => {
    const { source, state } = fakeSource();
    state.ended = true;
    expect(await createMessageIterator(source).next()).toEqual({ value: undefined, done: true });
  });
});
