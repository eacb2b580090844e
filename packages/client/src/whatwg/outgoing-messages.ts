import { Buffer } from 'node:buffer';
import type { ClientConnection } from '../client-connection.js';

/** A message as `WebSocket.send()` takes it once converted: text, bytes, or a Blob still to be read. */
export type OutgoingMessage = string | Buffer | Blob;

/**
 * The messages `WebSocket.send()` passed on, in order, and `bufferedAmount` as the spec defines
 * it: "the number of bytes of application data (UTF-8 text and binary data) that have been
 * queued using send() but that, as of the last time the event loop reached step 1, had not yet
 * been transmitted to the network. (This thus includes any text sent during the execution of
 * the current task, regardless of whether the user agent is able to transmit text in the
 * background in parallel with script execution.)" Bytes passed after the closing handshake
 * started count too, and never leave: "Any invocation of this method with a string argument
 * that does not throw an exception must increase the bufferedAmount attribute by the number of
 * bytes needed to express the argument as UTF-8", whether or not it is sent.
 */
export class OutgoingMessages {
  readonly #isOpen: () => boolean;
  #connection: ClientConnection | undefined;
  #sentThisTask = 0;
  #sentEarlier = 0;
  #rolloverScheduled = false;
  #neverSent = 0;
  readonly #blobQueue: OutgoingMessage[] = [];
  #blobQueueBytes = 0;

  /** `isOpen` tells whether messages may still be sent (OPEN, the closing handshake not started). */
  constructor(isOpen: () => boolean) {
    this.#isOpen = isOpen;
  }

  /** The connection to send on, once open. */
  attach(connection: ClientConnection): void {
    this.#connection = connection;
  }

  get bufferedAmount(): number {
    // What earlier tasks sent leaves as the connection writes it (its own queue and the socket's).
    const connection = this.#connection;
    if (connection !== undefined) this.#sentEarlier = Math.min(this.#sentEarlier, connection.bufferedAmount);
    return this.#sentThisTask + this.#sentEarlier + this.#blobQueueBytes + this.#neverSent;
  }

  /** Sends a message, or only counts it when the connection is no longer open. */
  send(message: OutgoingMessage): void {
    const byteLength = byteLengthOf(message);
    if (!this.#isOpen()) {
      this.#neverSent += byteLength;
      return;
    }
    if (message instanceof Blob || this.#blobQueue.length > 0) {
      // A Blob's bytes are read asynchronously; what is sent after it waits, to keep the order.
      // A queued view is copied: the caller may reuse its memory once send() returned.
      this.#blobQueue.push(Buffer.isBuffer(message) ? Buffer.from(message) : message);
      this.#blobQueueBytes += byteLength;
      if (this.#blobQueue.length === 1) void this.#drainBlobQueue();
      return;
    }
    this.#transmit(message, byteLength);
  }

  /** The connection closed: what still waits behind a Blob is never sent (and stays counted). */
  discard(): void {
    this.#blobQueue.length = 0;
  }

  #transmit(payload: string | Buffer, byteLength: number): void {
    this.#connection?.send(payload);
    this.#sentThisTask += byteLength;
    if (!this.#rolloverScheduled) {
      this.#rolloverScheduled = true;
      setImmediate(() => {
        this.#rolloverScheduled = false;
        this.#sentEarlier += this.#sentThisTask;
        this.#sentThisTask = 0;
      });
    }
  }

  async #drainBlobQueue(): Promise<void> {
    while (this.#blobQueue.length > 0) {
      const next = this.#blobQueue[0]!;
      const bytes = next instanceof Blob ? Buffer.from(await next.arrayBuffer()) : next;
      if (this.#blobQueue[0] !== next) return;
      this.#blobQueue.shift();
      const byteLength = byteLengthOf(bytes);
      this.#blobQueueBytes -= byteLength;
      if (this.#isOpen()) this.#transmit(bytes, byteLength);
      else this.#neverSent += byteLength;
    }
  }
}

function byteLengthOf(message: OutgoingMessage): number {
  if (typeof message === 'string') return Buffer.byteLength(message);
  return message instanceof Blob ? message.size : message.length;
}
