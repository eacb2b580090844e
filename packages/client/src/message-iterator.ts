import type { Buffer } from 'node:buffer';
import { InvalidStateError } from '@ws/core';

/** A received message: text as a string, binary as a Buffer, so that echoing one is `send(message)`. */
export type Message = string | Buffer;

/** What an iterator reads from: a connection, or a reconnecting one. */
export interface MessageSource {
  /** Messages held unread before the source is asked to stop reading. */
  readonly maxQueuedMessages: number;
  /** Attaches the iterator; returns the detach function, or undefined when the source has already ended. */
  subscribe(onMessage: (data: Buffer, isBinary: boolean) => void, onEnd: () => void): (() => void) | undefined;
  /** Undefined when the source ended normally, else the error the iteration throws. */
  endFailure(): Error | undefined;
  /** The iterator identified by `token` holds too many unread messages (or no longer does). */
  setBackpressure(token: object, full: boolean): void;
}

/** The events a connection emits that a {@link MessageSource} listens to. */
interface MessageEmitter {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * The {@link MessageSource} of a connection that emits `'message'` and `'close'`: iterators
 * subscribe to those events, and `onBackpressure` hears whether any iterator holds too many
 * unread messages (the connection then stops reading).
 */
export function messageSourceOf(
  emitter: MessageEmitter,
  options: {
    readonly maxQueuedMessages: number;
    /** True once the connection will emit no more messages: iterators made then end at once. */
    readonly hasEnded: () => boolean;
    readonly endFailure: () => Error | undefined;
    readonly onBackpressure: (anyIteratorFull: boolean) => void;
  },
): MessageSource {
  const fullIterators = new Set<object>();
  return {
    maxQueuedMessages: options.maxQueuedMessages,
    subscribe: (onMessage, onEnd) => {
      if (options.hasEnded()) return undefined;
      emitter.on('message', onMessage);
      emitter.on('close', onEnd);
      return () => {
        emitter.off('message', onMessage);
        emitter.off('close', onEnd);
      };
    },
    endFailure: options.endFailure,
    setBackpressure: (token, full) => {
      if (full) fullIterators.add(token);
      else fullIterators.delete(token);
      options.onBackpressure(fullIterators.size > 0);
    },
  };
}

/**
 * An async iterator over a source's messages from now on. It queues what arrives between two
 * `next()` calls; at `maxQueuedMessages` unread it asks the source to stop reading (TCP
 * backpressure then reaches the server) until the queue is down to a quarter.
 */
export function createMessageIterator(source: MessageSource): AsyncIterableIterator<Message> {
  const queue: Message[] = [];
  const token = {};
  const lowWaterMark = Math.floor(source.maxQueuedMessages / 4);
  let waiter: { resolve: (result: IteratorResult<Message>) => void; reject: (error: Error) => void } | undefined;
  let ended = false;
  let full = false;

  const setFull = (value: boolean): void => {
    if (full === value) return;
    full = value;
    source.setBackpressure(token, value);
  };
  const onMessage = (data: Buffer, isBinary: boolean): void => {
    const message = isBinary ? data : data.toString('utf8');
    if (waiter !== undefined) {
      const { resolve } = waiter;
      waiter = undefined;
      resolve({ value: message, done: false });
      return;
    }
    queue.push(message);
    if (queue.length >= source.maxQueuedMessages) setFull(true);
  };
  const onEnd = (): void => {
    ended = true;
    detach?.();
    setFull(false);
    if (waiter === undefined) return;
    const { resolve, reject } = waiter;
    waiter = undefined;
    const failure = source.endFailure();
    if (failure === undefined) resolve({ value: undefined, done: true });
    else reject(failure);
  };
  let detach: (() => void) | undefined = source.subscribe(onMessage, onEnd);
  if (detach === undefined) ended = true;

  const iterator: AsyncIterableIterator<Message> = {
    next() {
      if (queue.length > 0) {
        const value = queue.shift()!;
        if (queue.length <= lowWaterMark) setFull(false);
        return Promise.resolve({ value, done: false });
      }
      if (ended) {
        const failure = source.endFailure();
        return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure);
      }
      if (waiter !== undefined) {
        return Promise.reject(new InvalidStateError('next() was called while an earlier call is pending', 'open'));
      }
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return() {
      ended = true;
      queue.length = 0;
      detach?.();
      detach = undefined;
      setFull(false);
      if (waiter !== undefined) {
        waiter.resolve({ value: undefined, done: true });
        waiter = undefined;
      }
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
