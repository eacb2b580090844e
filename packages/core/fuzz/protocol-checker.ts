import type { Buffer } from 'node:buffer';
import { ConnectionState, InvalidStateError, type Protocol, type ProtocolError } from '@ws/core';
import { isRegisteredEchoCode } from './close-codes.js';
import type { FuzzConfig, FuzzEndpoints } from './fuzz-config.js';
import { FuzzFailure, Invariant } from './fuzz-failure.js';
import { ReceivedEventsChecker } from './received-events-checker.js';
import { type OutputBatch, SentOutputChecker } from './sent-output-checker.js';
import type { Expectation } from './stream-builder.js';
import type { TraceEvent } from './trace-event.js';

/** Who caused a step: the peer's bytes, the transport's EOF, or the application. */
type Origin = 'peer' | 'eof' | 'application' | 'close-echo';

interface Snapshot {
  readonly state: ConnectionState;
  readonly error: ProtocolError | undefined;
  readonly closeSent: boolean;
}

const STATE_NAMES = ['connecting', 'open', 'closing', 'closed'];

/**
 * Drives one engine the way the I/O layer does (after every input: flush `dataToSend()`, check
 * `closeExpected()`, deliver `eventsReceived()`) and checks every rule the fuzzer knows after
 * every step: nothing thrown, close codes, nothing but the close frame and EOF after a failure,
 * no event after a close or an error, state only forward, every event within the limits and
 * well-formed, and, for a generated stream, exactly the events it calls for.
 */
export class ProtocolChecker {
  readonly protocol: Protocol;
  readonly #config: FuzzConfig;
  readonly #output: SentOutputChecker;
  readonly #events: ReceivedEventsChecker;
  #inputBytes = 0;
  #eofReceived = false;
  #closeEchoLeftPending = false;
  #applicationClose: { code: number | undefined } | undefined;

  constructor(endpoints: FuzzEndpoints, config: FuzzConfig, expectation: Expectation | undefined) {
    this.protocol = endpoints.protocol;
    this.#config = config;
    this.#output = new SentOutputChecker(config.side, endpoints.peerDeflate);
    this.#events = new ReceivedEventsChecker(endpoints.protocol, config, expectation);
  }

  /** Whole messages, pings, pongs and the close, in order. */
  get trace(): readonly TraceEvent[] {
    return this.#events.trace;
  }

  /** Close code of the close frame the engine sent: a number, 'empty' for no body, 'none'. */
  get sentClose(): number | 'empty' | 'none' {
    const close = this.#output.close;
    return close === undefined ? 'none' : (close.code ?? 'empty');
  }

  get output(): SentOutputChecker {
    return this.#output;
  }

  receive(chunk: Buffer): void {
    this.#inputBytes += chunk.length;
    this.#step('peer', 'receiveData', () => this.protocol.receiveData(chunk));
  }

  receiveEof(): void {
    this.#closeEchoLeftPending = this.protocol.closeEchoPending;
    this.#step('eof', 'receiveEof', () => this.protocol.receiveEof());
    this.#eofReceived = true;
  }

  /** Bytes arriving after EOF (a misbehaving transport): ignored, nothing produced. */
  receiveAfterEof(chunk: Buffer): void {
    this.#step('eof', 'receiveData after EOF', () => this.protocol.receiveData(chunk));
  }

  /** The transport took everything: the engine's allowance of pending pongs empties. */
  drain(): void {
    this.protocol.outputDrained();
    this.#events.drained();
  }

  sendCloseEcho(): void {
    this.#step('close-echo', 'sendCloseEcho', () => this.protocol.sendCloseEcho());
  }

  /**
   * Runs an application call. It must throw InvalidStateError exactly when `mustRefuse` (and
   * nothing else); once accepted, `accepted` registers what it must write.
   */
  application(
    name: string,
    call: () => void,
    mustRefuse: boolean,
    accepted: () => void,
    close?: { code: number | undefined },
  ): void {
    this.#applicationClose = close;
    try {
      this.#step('application', name, call, { mustRefuse, accepted });
    } finally {
      this.#applicationClose = undefined;
    }
  }

  #snapshot(): Snapshot {
    return {
      state: this.protocol.state,
      error: this.protocol.protocolError,
      closeSent: this.#output.close !== undefined,
    };
  }

  #step(
    origin: Origin,
    name: string,
    call: () => void,
    application?: { mustRefuse: boolean; accepted: () => void },
  ): void {
    const before = this.#snapshot();
    let refused = false;
    try {
      call();
    } catch (error) {
      if (application === undefined || !(error instanceof InvalidStateError)) {
        throw new FuzzFailure(Invariant.NoThrow, `${name} threw ${(error as Error).stack ?? String(error)}`, {
          cause: error,
        });
      }
      refused = true;
    }
    if (application !== undefined) {
      if (refused !== application.mustRefuse) {
        throw new FuzzFailure(
          Invariant.State,
          `${name} was ${refused ? 'refused' : 'accepted'} in state ${STATE_NAMES[before.state]}, close ${before.closeSent ? '' : 'not '}sent`,
        );
      }
      if (!refused) application.accepted();
    }
    const batch = this.#output.check(this.protocol.dataToSend());
    this.#events.check(this.protocol.eventsReceived(), before.closeSent);
    this.#checkBatch(batch, before, origin, refused);
    this.#checkState(before);
  }

  #checkBatch(batch: OutputBatch, before: Snapshot, origin: Origin, refused: boolean): void {
    if ((origin !== 'application' || refused) && before.error !== undefined && batch.otherFrames > 0) {
      throw new FuzzFailure(
        Invariant.AfterError,
        `After ${before.error.code}, the engine wrote ${batch.otherFrames} frame(s) besides the close frame`,
      );
    }
    if (origin === 'eof' && (batch.otherFrames > 0 || batch.close !== undefined)) {
      throw new FuzzFailure(Invariant.AfterError, 'The engine wrote frames on EOF');
    }
    // Every ping answered, in order: RFC 6455 §5.5.3 "A Pong frame sent in response to a Ping
    // frame must have identical "Application data" as found in the message body of the Ping frame".
    const pongs = this.#output.pongs;
    const pings = this.#events.pingsAwaitingPong;
    while (pongs.length > 0 && pings.length > 0) {
      if (!pongs.shift()!.equals(pings.shift()!)) {
        throw new FuzzFailure(Invariant.Wellformed, 'A pong did not echo its ping');
      }
    }
    if (pongs.length > 0) throw new FuzzFailure(Invariant.Wellformed, 'A pong was written without a ping to answer');
    if (pings.length > 0) {
      throw new FuzzFailure(
        Invariant.Wellformed,
        'RFC 6455 §5.5.2: a ping received before any close frame was sent was not answered',
      );
    }
    if (batch.close !== undefined) this.#checkCloseCode(batch.close.code);
  }

  /** The close frame carries the failure's code, the application's, or the echo of the peer's. */
  #checkCloseCode(code: number | undefined): void {
    const error = this.protocol.protocolError;
    const received = this.protocol.closeReceived;
    let expected: number | undefined;
    let source: string;
    if (error !== undefined) {
      expected = error.closeCode;
      source = `the failure ${error.code}`;
    } else if (this.#applicationClose !== undefined) {
      expected = this.#applicationClose.code;
      source = 'the application';
    } else if (received !== undefined) {
      // RFC 6455 §5.5.1: "the endpoint typically echos the status code it received"; 1005 is
      // never sent, so a close without a code is answered without one.
      expected = received.code === 1005 ? undefined : received.code;
      source = `the echo of ${received.code}`;
      if (code === expected) return;
    } else {
      throw new FuzzFailure(
        Invariant.CloseCode,
        `A close frame (${code}) was written with no failure, close call or close received`,
      );
    }
    if (code !== expected) {
      throw new FuzzFailure(Invariant.CloseCode, `The close frame carries ${code}, ${source} calls for ${expected}`);
    }
    if (code !== undefined && isRegisteredEchoCode(code)) {
      throw new FuzzFailure(Invariant.CloseCode, `${code} was sent other than as an echo`);
    }
  }

  #checkState(before: Snapshot): void {
    const protocol = this.protocol;
    const state = protocol.state;
    if (state < before.state || state < ConnectionState.Open || state > ConnectionState.Closed) {
      throw new FuzzFailure(
        Invariant.State,
        `The state went from ${STATE_NAMES[before.state]} to ${STATE_NAMES[state]}`,
      );
    }
    if (protocol.closeExpected() !== (state === ConnectionState.Closing)) {
      throw new FuzzFailure(Invariant.State, `closeExpected() in state ${STATE_NAMES[state]}`);
    }
    const closeSent = this.#output.close !== undefined;
    if (protocol.closeSent !== closeSent) {
      throw new FuzzFailure(
        Invariant.State,
        `closeSent is ${protocol.closeSent} while a close frame was ${closeSent ? '' : 'not '}written`,
      );
    }
    if (
      (closeSent || this.#events.terminalEvent !== undefined) &&
      state === ConnectionState.Open &&
      !protocol.closeEchoPending
    ) {
      throw new FuzzFailure(Invariant.State, 'The connection is still open after a close frame or a failure');
    }
    if (this.#eofReceived && state !== ConnectionState.Closed) {
      throw new FuzzFailure(Invariant.State, 'Not closed after EOF');
    }
    // RFC 6455 §5.5.1: "After both sending and receiving a Close message, ... The server MUST
    // close the underlying TCP connection immediately"; the engine also half-closes as soon as
    // the close frame that fails a connection is out.
    const serverMustEnd = closeSent && (protocol.closeReceived !== undefined || protocol.protocolError !== undefined);
    if (this.#config.side === 'server' && serverMustEnd && !this.#output.eof) {
      throw new FuzzFailure(Invariant.State, 'The server did not half-close after the close frames');
    }
  }

  /**
   * Final checks, after EOF: a failure or the peer's close was answered with a close frame
   * (unless the I/O layer never asked for the held one before EOF), the expectation was met in
   * full, handed-out bytes are intact, and the engine's own output stayed proportionate.
   */
  finish(): void {
    this.#output.finish();
    this.#events.finish();
    if (!this.#output.eof) throw new FuzzFailure(Invariant.State, 'No SEND_EOF after the transport closed');
    const error = this.protocol.protocolError;
    if (error !== undefined && this.#output.close === undefined && !this.#closeEchoLeftPending) {
      throw new FuzzFailure(Invariant.CloseCode, `${error.code} failed the connection but no close frame was sent`);
    }
    if (
      error === undefined &&
      this.protocol.closeReceived !== undefined &&
      this.#output.close === undefined &&
      !this.#closeEchoLeftPending
    ) {
      throw new FuzzFailure(Invariant.State, "RFC 6455 §5.5.1: the peer's close frame was not answered");
    }
    if (this.#output.automaticBytes > 3 * this.#inputBytes + 140) {
      throw new FuzzFailure(
        Invariant.Memory,
        `${this.#output.automaticBytes} bytes of pongs and close frames for ${this.#inputBytes} bytes of input`,
      );
    }
  }
}
