import { Buffer, isUtf8 } from 'node:buffer';
import { type Protocol, type ProtocolError, type ProtocolEvent, ReceiveMode } from '@ws/core';
import { FAILURE_CLOSE_CODES } from './close-codes.js';
import type { FuzzConfig } from './fuzz-config.js';
import { FuzzFailure, Invariant } from './fuzz-failure.js';
import type { Expectation } from './stream-builder.js';
import { describeEvent, firstDifference, sameEvent, type TraceEvent } from './trace-event.js';

/**
 * Checks what an engine reports from `eventsReceived()`: nothing after its close or error
 * event, exactly one error event per failure, messages within `maxMessageSize` and text in
 * UTF-8, stream-mode pieces that form messages, and, for a generated stream, exactly the
 * events it calls for. It also mirrors the engine's count of pongs waiting to be written.
 */
export class ReceivedEventsChecker {
  readonly #protocol: Protocol;
  readonly #config: FuzzConfig;
  readonly #expectation: Expectation | undefined;
  /** Whole messages, pings, pongs and the close, in order. */
  readonly trace: TraceEvent[] = [];
  /** Payloads of pings received before any close frame was sent: each calls for a pong. */
  readonly pingsAwaitingPong: Buffer[] = [];
  /** Event payloads as handed out, with a copy taken then: they must not change afterwards. */
  readonly #handedOut: { data: Buffer; copy: Buffer }[] = [];
  #piece: { isBinary: boolean; parts: Buffer[]; length: number } | undefined;
  #terminalEvent: 'close' | 'error' | undefined;
  #errorEvents = 0;
  /** Pings answered since the output last drained: mirrors the engine's ping-flood counter. */
  #pongsPending = 0;

  constructor(protocol: Protocol, config: FuzzConfig, expectation: Expectation | undefined) {
    this.#protocol = protocol;
    this.#config = config;
    this.#expectation = expectation;
  }

  /** The close or error event, once reported: no event may follow it. */
  get terminalEvent(): 'close' | 'error' | undefined {
    return this.#terminalEvent;
  }

  /** The output drained: the engine's allowance of pending pongs empties. */
  drained(): void {
    this.#pongsPending = 0;
  }

  /** `closeSent`: whether a close frame had been written before the call that produced `events`. */
  check(events: readonly ProtocolEvent[], closeSent: boolean): void {
    for (const event of events) {
      if (this.#terminalEvent !== undefined) {
        throw new FuzzFailure(
          Invariant.AfterError,
          `A ${event.type} event came after the ${this.#terminalEvent} event`,
        );
      }
      switch (event.type) {
        case 'message':
          if (this.#config.receiveMode !== ReceiveMode.Message) {
            throw new FuzzFailure(Invariant.Wellformed, 'A message event in stream mode');
          }
          this.#keep(event.data);
          this.#onMessage(event.data, event.isBinary);
          break;
        case 'piece':
          this.#onPiece(event);
          break;
        case 'ping':
        case 'pong':
          this.#onControl(event.type, event.data, closeSent);
          break;
        case 'close':
          this.#onClose(event.code, event.reason);
          break;
        case 'error':
          this.#onError(event.error);
          break;
      }
    }
    if (this.#protocol.protocolError !== undefined && this.#errorEvents === 0) {
      throw new FuzzFailure(Invariant.State, 'The connection failed without an error event');
    }
  }

  /** At the end: handed-out bytes intact, and the generated stream's expectation met in full. */
  finish(): void {
    for (const { data, copy } of this.#handedOut) {
      if (!data.equals(copy)) {
        throw new FuzzFailure(Invariant.Memory, 'The bytes of an event changed after it was handed out');
      }
    }
    this.#checkExpectation(this.#protocol.protocolError);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    // The memory bound: a message is never larger than maxMessageSize, decompressed or not.
    if (data.length > this.#config.maxMessageSize) {
      throw new FuzzFailure(
        Invariant.Memory,
        `A ${data.length}-byte message passed maxMessageSize ${this.#config.maxMessageSize}`,
      );
    }
    // RFC 6455 §8.1: text is delivered only when it is UTF-8.
    if (!isBinary && !isUtf8(data)) {
      throw new FuzzFailure(Invariant.Wellformed, 'A text message that is not UTF-8 was delivered');
    }
    this.#deliver({ type: 'message', data, isBinary });
  }

  #onPiece(event: Extract<ProtocolEvent, { type: 'piece' }>): void {
    if (this.#config.receiveMode !== ReceiveMode.Stream) {
      throw new FuzzFailure(Invariant.Wellformed, 'A piece event in message mode');
    }
    this.#keep(event.data);
    if (event.messageStart === (this.#piece !== undefined)) {
      const problem = event.messageStart
        ? 'A message started inside another'
        : 'A piece came without its message start';
      throw new FuzzFailure(Invariant.Wellformed, problem);
    }
    const piece = (this.#piece ??= { isBinary: event.isBinary, parts: [], length: 0 });
    if (piece.isBinary !== event.isBinary) {
      throw new FuzzFailure(Invariant.Wellformed, 'A message changed type between pieces');
    }
    piece.parts.push(event.data);
    piece.length += event.data.length;
    if (piece.length > this.#config.maxMessageSize) {
      throw new FuzzFailure(
        Invariant.Memory,
        `Pieces of ${piece.length} bytes passed maxMessageSize ${this.#config.maxMessageSize}`,
      );
    }
    if (!event.messageEnd) return;
    if (!event.frameEnd) throw new FuzzFailure(Invariant.Wellformed, 'A message ended before its frame');
    this.#piece = undefined;
    this.#onMessage(Buffer.concat(piece.parts, piece.length), piece.isBinary);
  }

  #onControl(type: 'ping' | 'pong', data: Buffer, closeSent: boolean): void {
    if (data.length > 125) throw new FuzzFailure(Invariant.Memory, `A ${type} of ${data.length} bytes`);
    this.#keep(data);
    // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    // response, unless it already received a Close frame"; the engine answers none after its own.
    if (type === 'ping' && !closeSent) {
      this.pingsAwaitingPong.push(Buffer.from(data));
      if (++this.#pongsPending > this.#config.maxPendingPongs) {
        throw new FuzzFailure(
          Invariant.Memory,
          `${this.#pongsPending} pongs wait while maxPendingPongs is ${this.#config.maxPendingPongs}`,
        );
      }
    }
    this.#deliver({ type, data });
  }

  #onClose(code: number, reason: string): void {
    const codeValid =
      code === 1005 ||
      (code >= 1000 && code <= 1003) ||
      (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999);
    if (!codeValid || Buffer.byteLength(reason) > 123) {
      throw new FuzzFailure(Invariant.Wellformed, `A close event with code ${code} was reported`);
    }
    const received = this.#protocol.closeReceived;
    if (received?.code !== code || received.reason !== reason) {
      throw new FuzzFailure(Invariant.State, 'closeReceived disagrees with the close event');
    }
    this.#terminalEvent = 'close';
    this.#piece = undefined;
    this.#deliver({ type: 'close', code, reason });
  }

  #onError(error: ProtocolError): void {
    if (error !== this.#protocol.protocolError || ++this.#errorEvents > 1) {
      throw new FuzzFailure(Invariant.State, 'An error event that is not protocolError');
    }
    if (!FAILURE_CLOSE_CODES.has(error.closeCode)) {
      throw new FuzzFailure(Invariant.CloseCode, `${error.code} maps to close code ${error.closeCode}`);
    }
    if (error.code === 'WS_ERR_PING_FLOOD' && this.#pongsPending !== this.#config.maxPendingPongs) {
      throw new FuzzFailure(
        Invariant.State,
        `A ping flood was reported with ${this.#pongsPending} of ${this.#config.maxPendingPongs} pongs pending`,
      );
    }
    this.#terminalEvent = 'error';
    this.#piece = undefined;
  }

  #keep(data: Buffer): void {
    if (data.length > 0) this.#handedOut.push({ data, copy: Buffer.from(data) });
  }

  #deliver(event: TraceEvent): void {
    const index = this.trace.length;
    this.trace.push(event);
    const expected = this.#expectation?.events;
    if (expected !== undefined && (index >= expected.length || !sameEvent(expected[index]!, event))) {
      const difference = firstDifference(event, expected[index]);
      throw new FuzzFailure(
        Invariant.Expectation,
        `Event ${index} is a ${describeEvent(event)}; the stream calls for ${describeEvent(expected[index])}${difference}`,
      );
    }
  }

  #checkExpectation(error: ProtocolError | undefined): void {
    const expectation = this.#expectation;
    if (expectation === undefined) return;
    // A ping flood depends on when the output drained, not on the stream: it may cut any stream short.
    if (error?.code === 'WS_ERR_PING_FLOOD') return;
    const outcome = error === undefined ? 'no failure' : `${error.code} (${error.closeCode}): ${error.message}`;
    if (this.trace.length !== expectation.events.length) {
      const next = describeEvent(expectation.events[this.trace.length]);
      throw new FuzzFailure(
        Invariant.Expectation,
        `${this.trace.length} of ${expectation.events.length} events were reported, then ${outcome}; next: ${next}`,
      );
    }
    if (error?.closeCode !== expectation.failureCode) {
      throw new FuzzFailure(
        Invariant.Expectation,
        `The stream calls for ${expectation.failureCode ?? 'no failure'}; the engine ended with ${outcome}`,
      );
    }
  }
}
