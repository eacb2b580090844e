import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { Protocol, ProtocolEvent } from '@ws/core';
import { abortTransport } from './abort-transport.js';
import { flushOutput } from './flush-output.js';
import { ReadGate, ReadPause, spendTurnWork, turnWorkBudget } from './read-gate.js';

/** What the pump calls back into: the connection, under symbols that are not part of its API. */
export const kDeliver: unique symbol = Symbol('pump.deliver');
export const kTransportClosed: unique symbol = Symbol('pump.transportClosed');
export const kTransportDrained: unique symbol = Symbol('pump.transportDrained');

export interface PumpHost {
  /** Hands the protocol's events to the application, in arrival order. */
  [kDeliver](events: readonly ProtocolEvent[]): void;
  /** The transport is gone. */
  [kTransportClosed](): void;
  /** The transport wrote everything that backed it up. */
  [kTransportDrained](): void;
}

/** A failed connection waits this long for the peer to close before destroying the transport. */
const FAILED_CLOSE_TIMEOUT = 100;

/**
 * Binds a sans-I/O {@link Protocol} to a transport. After every input it runs one pump: flush
 * the protocol's output (automatic pongs and close echoes reach the wire first), arm the close
 * timer if a close is expected, then deliver the events. What the application sends while
 * events are delivered leaves in one write at the end of the pump: a burst of incoming messages
 * gets its replies in one syscall, while a message sent on its own is written at once.
 */
export class TransportPump {
  readonly transport: Duplex;
  readonly protocol: Protocol;
  readonly gate: ReadGate;
  readonly #host: PumpHost;
  readonly #closeTimeout: number;
  #delivering = false;
  #failed = false;
  /** A `continueReceiving` is scheduled for the next turn. */
  #continuing = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  /** The most protocol work one call does (see `Protocol`'s `workBudget`). */
  readonly #workPerCall: number;

  constructor(transport: Duplex, protocol: Protocol, host: PumpHost, closeTimeout: number, workPerCall: number) {
    this.transport = transport;
    this.protocol = protocol;
    this.#host = host;
    this.#closeTimeout = closeTimeout;
    this.#workPerCall = workPerCall;
    this.gate = new ReadGate(transport);
  }

  /** Attaches the listeners and starts reading; `head` holds bytes that arrived with the handshake. */
  start(head: Buffer | undefined): void {
    const transport = this.transport;
    if ('setNoDelay' in transport && typeof transport.setNoDelay === 'function') transport.setNoDelay(true);
    if ('setTimeout' in transport && typeof transport.setTimeout === 'function') transport.setTimeout(0);
    // The listeners are shared by every connection (they find theirs through the transport), so
    // an idle connection costs no closures.
    (transport as unknown as TransportWithPump)[kPump] = this;
    transport.on('data', TransportPump.#onData);
    transport.on('end', TransportPump.#onEnd);
    transport.on('close', TransportPump.#onClose);
    transport.on('error', ignoreTransportError);
    transport.on('drain', TransportPump.#onDrain);
    if (transport.destroyed) {
      queueMicrotask(() => this.#host[kTransportClosed]());
      return;
    }
    this.gate.start();
    if (head !== undefined && head.length > 0) this.#receive(head);
  }

  /** The transport is gone: no more listeners, timers or reading. */
  detach(): void {
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    const transport = this.transport;
    transport.off('data', TransportPump.#onData);
    transport.off('end', TransportPump.#onEnd);
    transport.off('drain', TransportPump.#onDrain);
    transport.off('close', TransportPump.#onClose);
    // The 'error' listener stays: a late transport error must not find the transport without one.
    this.gate.stop();
  }

  /** Events are being delivered: what is sent meanwhile is written at the end of the pump. */
  get isDelivering(): boolean {
    return this.#delivering;
  }

  /**
   * Fail fast: nothing more is read until the close frame is out, and the transport is destroyed
   * soon after unless the peer closes first.
   */
  fail(): void {
    this.#failed = true;
    this.gate.set(ReadPause.Failed, true);
  }

  /** The connection failed (`fail()` was called). */
  get failed(): boolean {
    return this.#failed;
  }

  flushUnlessDelivering(): void {
    if (this.#delivering || !this.protocol.hasDataToSend) return;
    this.#flush();
    if (this.protocol.closeExpected()) this.armCloseTimer();
  }

  armCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.transport.destroyed) return;
    // RFC 6455 §7.1.1: an endpoint waits for the peer to close the TCP connection, but not
    // forever; a failed connection waits only briefly (its peer broke the rules or stalled).
    const failed = this.#failed || this.protocol.protocolError !== undefined;
    const timeout = failed ? Math.min(FAILED_CLOSE_TIMEOUT, this.#closeTimeout) : this.#closeTimeout;
    this.#closeTimer = setTimeout(TransportPump.#closeTimedOut, timeout, this);
    this.#closeTimer.unref?.();
  }

  /** No end of stream in time: the transport is destroyed (an HTTP/2 stream is reset). */
  static #closeTimedOut(pump: TransportPump): void {
    abortTransport(pump.transport, pump.protocol.wasClean);
  }

  static #onData(this: Duplex, chunk: Buffer): void {
    pumpOf(this).#receive(chunk);
  }

  static #onEnd(this: Duplex): void {
    const pump = pumpOf(this);
    // A reply to the peer's close frame held for the application goes out before our end of
    // stream, not never: a peer may half-close right after its close frame and still read
    // (Chromium does on an HTTP/2 stream). RFC 6455 §5.5.1: "If an endpoint receives a Close
    // frame and did not previously send a Close frame, the endpoint MUST send a Close frame in
    // response."
    if (pump.protocol.closeEchoPending) pump.protocol.sendCloseEcho();
    pump.protocol.receiveEof();
    pump.#pump();
  }

  static #onDrain(this: Duplex): void {
    const pump = pumpOf(this);
    pump.protocol.outputDrained();
    if (pump.#abortIfPeerDoesNotRead()) return;
    if (pump.#failed && pump.transport.writableLength === 0) pump.gate.set(ReadPause.Failed, false);
    pump.#host[kTransportDrained]();
  }

  static #onClose(this: Duplex): void {
    pumpOf(this).#host[kTransportClosed]();
  }

  #receive(chunk: Buffer): void {
    const protocol = this.protocol;
    protocol.receiveData(chunk, turnWorkBudget(this.#workPerCall));
    spendTurnWork(protocol.workDone);
    this.gate.spend(chunk.length);
    this.#pump();
    if (protocol.hasPendingWork) this.#continueNextTurn();
  }

  /**
   * The protocol stopped at its work budget (a flood of tiny frames, a message that inflates to
   * megabytes): reading waits, and the rest is worked through on the next turn, after other
   * connections had theirs.
   */
  #continueNextTurn(): void {
    if (this.#continuing) return;
    this.#continuing = true;
    this.gate.set(ReadPause.Work, true);
    setImmediate(TransportPump.#continueReceiving, this);
  }

  static #continueReceiving(pump: TransportPump): void {
    pump.#continuing = false;
    if (pump.transport.destroyed) return;
    pump.protocol.continueReceiving(turnWorkBudget(pump.#workPerCall));
    spendTurnWork(pump.protocol.workDone);
    pump.#pump();
    if (pump.protocol.hasPendingWork) pump.#continueNextTurn();
    else pump.gate.set(ReadPause.Work, false);
  }

  #pump(): void {
    const protocol = this.protocol;
    if (protocol.hasDataToSend) this.#flush();
    if (protocol.closeExpected() && !this.#abortIfPeerDoesNotRead()) this.armCloseTimer();
    const events = protocol.eventsReceived();
    if (events.length === 0) return;
    this.#delivering = true;
    try {
      this.#host[kDeliver](events);
    } finally {
      this.#delivering = false;
      this.flushUnlessDelivering();
    }
    if (protocol.closeEchoPending) setImmediate(TransportPump.#sendCloseEcho, this);
  }

  /**
   * A ping flood fails a peer that does not read: its pongs pile up unsent. Such a peer will not
   * read a close frame either, let alone answer it, so there is nothing to wait for: once the
   * close frame has left our buffers (best effort: it reaches the peer only if its receive
   * window has room), the transport is destroyed. Until then the close timer still bounds the
   * wait. Returns whether the transport was destroyed.
   */
  #abortIfPeerDoesNotRead(): boolean {
    if (this.protocol.protocolError?.code !== 'WS_ERR_PING_FLOOD') return false;
    if (this.transport.writableLength > 0) return false;
    abortTransport(this.transport, false);
    return true;
  }

  /**
   * Replies to the peer's close frame one turn of the event loop after the events that came
   * with it were delivered: listeners and promise-based consumers (async iterators) alike have
   * answered the messages that preceded the close by then.
   */
  static #sendCloseEcho(pump: TransportPump): void {
    pump.protocol.sendCloseEcho();
    pump.flushUnlessDelivering();
  }

  #flush(): void {
    const transport = this.transport;
    if (transport.destroyed) return;
    if (flushOutput(transport, this.protocol.dataToSend())) return;
    this.protocol.outputDrained();
    if (this.#failed) this.gate.set(ReadPause.Failed, false);
  }
}

const kPump = Symbol('ws.pump');

interface TransportWithPump {
  [kPump]: TransportPump;
}

function pumpOf(transport: Duplex): TransportPump {
  return (transport as unknown as TransportWithPump)[kPump];
}

/** A transport error (a reset, a TLS failure) ends in 'close'; the close code then says 1006. */
function ignoreTransportError(): void {}
