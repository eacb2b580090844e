import { Buffer } from 'node:buffer';
import { CloseCode } from '../errors/close-code.js';
import type { ProtocolErrorCode } from '../errors/error-code.js';
import type { ProtocolError } from '../errors/protocol-error.js';
import { Opcode } from '../frames/opcode.js';
import { connectionState, fail, receiveEof, sendClose, sendCloseEcho } from './closing-handshake.js';
import { ConnectionState, type Side } from './connection-state.js';
import { continueReceiving, receiveData } from './frame-receiver.js';
import type { OutgoingData } from './frame-writer.js';
import { sendContinuation, sendControlFrame, sendMessage, sendRaw } from './message-sender.js';
import type { ProtocolEvent } from './protocol-event.js';
import type { ProtocolOptions, SendOptions } from './protocol-options.js';
import { NO_EVENTS, ProtocolState } from './protocol-state.js';

const EMPTY_PAYLOAD = Buffer.alloc(0);

/**
 * The WebSocket protocol of RFC 6455 for one connection, without I/O: bytes in, events and
 * bytes out. It owns no socket, timer or clock and calls no user code, so every byte of its
 * behaviour is reproducible in a test.
 *
 * After every input (`receiveData`, `receiveEof`, a send), the I/O layer flushes
 * `dataToSend()`, arms its close timer if `closeExpected()`, then delivers `eventsReceived()`.
 */
export class Protocol {
  readonly side: Side;
  /**
   * Everything the connection holds. The work is done by the functions of frame-receiver.ts
   * and message-receiver.ts (reading), message-sender.ts (sending) and closing-handshake.ts
   * (ending the connection), which all work on it; this class is the public API.
   */
  readonly #protocol: ProtocolState;

  constructor(side: Side, options: ProtocolOptions = {}, maskKeySource?: () => Uint8Array) {
    this.side = side;
    this.#protocol = new ProtocolState(side, options, maskKeySource);
  }

  get state(): ConnectionState {
    return connectionState(this.#protocol);
  }

  /** The violation that failed the connection, if the peer broke the protocol. */
  get protocolError(): ProtocolError | undefined {
    return this.#protocol.closing?.protocolError;
  }

  /** A message was started with `fin: false` and its final fragment not sent yet. */
  get isSendingFragmented(): boolean {
    return this.#protocol.fragmentedSend !== undefined;
  }

  get closeSent(): boolean {
    return this.#protocol.closing?.closeSent ?? false;
  }

  /** The peer's close frame, once received. */
  get closeReceived(): { readonly code: number; readonly reason: string } | undefined {
    return this.#protocol.closing?.closeReceived;
  }

  /**
   * RFC 6455 §7.1.5: the close code is the one in the first Close frame received, or 1006
   * ("If _The WebSocket Connection is Closed_ and no Close control frame was received by the
   * endpoint (such as could occur if the underlying transport connection is lost), _The
   * WebSocket Connection Close Code_ is considered to be 1006").
   */
  get closeCode(): number {
    return this.#protocol.closing?.closeReceived?.code ?? CloseCode.Abnormal;
  }

  get closeReason(): string {
    return this.#protocol.closing?.closeReceived?.reason ?? '';
  }

  /** RFC 6455 §7.1.4: the closing handshake completed (a close frame went each way). */
  get wasClean(): boolean {
    const closing = this.#protocol.closing;
    return (
      closing !== undefined &&
      closing.closeSent &&
      closing.closeReceived !== undefined &&
      closing.protocolError === undefined
    );
  }

  // ---- Input -------------------------------------------------------------------------------

  /** Feeds bytes from the transport. Never throws on peer input: a violation fails the connection. */
  receiveData(chunk: Buffer, workBudget = this.#protocol.workBudget): void {
    receiveData(this.#protocol, chunk, workBudget);
  }

  /** Whether processing stopped at the work budget with input left: call `continueReceiving()`. */
  get hasPendingWork(): boolean {
    return this.#protocol.suspended;
  }

  /**
   * Goes on with the input a call left at its work budget (see `workBudget`); `workBudget`
   * bounds this call instead (an I/O layer sharing one budget among its connections).
   */
  continueReceiving(workBudget = this.#protocol.workBudget): void {
    continueReceiving(this.#protocol, workBudget);
  }

  /** The work the last `receiveData` or `continueReceiving` did, in `workBudget` units. */
  get workDone(): number {
    return this.#protocol.workUsed;
  }

  /** The transport's read side ended. */
  receiveEof(): void {
    const protocol = this.#protocol;
    if (protocol.closing?.eofReceived === true) return;
    // What was received before the end is processed first (a close frame may be in it).
    continueReceiving(protocol, Infinity);
    receiveEof(protocol);
    // The transport is gone: extensions release what they hold (zlib engines).
    for (const extension of protocol.extensions) extension.dispose();
  }

  // ---- Output ------------------------------------------------------------------------------

  sendText(data: string | Uint8Array, options?: SendOptions): void {
    sendMessage(this.#protocol, Opcode.Text, data, options);
  }

  sendBinary(data: Uint8Array, options?: SendOptions): void {
    sendMessage(this.#protocol, Opcode.Binary, data, options);
  }

  /** Sends the next fragment of a message started with `fin: false`. */
  sendContinuation(data: string | Uint8Array, options?: SendOptions): void {
    sendContinuation(this.#protocol, data, options);
  }

  sendPing(data: Uint8Array | string = EMPTY_PAYLOAD): void {
    sendControlFrame(this.#protocol, Opcode.Ping, data);
  }

  sendPong(data: Uint8Array | string = EMPTY_PAYLOAD): void {
    sendControlFrame(this.#protocol, Opcode.Pong, data);
  }

  /**
   * Queues bytes that already form complete frames, built once by `encodeFrame` for many
   * connections (a broadcast). Only between messages: never inside a fragmented one.
   */
  sendRaw(frames: Buffer): void {
    sendRaw(this.#protocol, frames);
  }

  /**
   * Starts (or completes) the closing handshake. Without a code, the close frame has no body
   * and the peer sees 1005. Throws RangeError for a code that may not be sent or a
   * reason longer than 123 UTF-8 bytes, and when a close frame was already sent.
   */
  sendClose(code?: number, reason = ''): void {
    sendClose(this.#protocol, code, reason);
  }

  /**
   * Whether a close frame waits for `sendCloseEcho()` (option `deferCloseEcho`): the reply to
   * the peer's close frame, or the one failing the connection after messages it preceded.
   */
  get closeEchoPending(): boolean {
    return this.#protocol.closing?.closeEchoPending !== undefined;
  }

  /** Sends the held close frame: the reply echoing the peer's status code, or the failure's. */
  sendCloseEcho(): void {
    sendCloseEcho(this.#protocol);
  }

  /**
   * The I/O layer reports that everything handed out by `dataToSend()` has been written
   * (the transport is not backed up), which empties the allowance of pending pongs.
   */
  outputDrained(): void {
    this.#protocol.pendingPongs = 0;
  }

  /** Everything to write to the transport since the last call, `SEND_EOF` meaning half-close. */
  dataToSend(): OutgoingData[] {
    return this.#protocol.writer.take();
  }

  /** Whether `dataToSend()` has anything. */
  get hasDataToSend(): boolean {
    return this.#protocol.writer.hasOutput;
  }

  /** Events since the last call, in arrival order. */
  eventsReceived(): readonly ProtocolEvent[] {
    const protocol = this.#protocol;
    const events = protocol.events;
    if (events.length === 0) return NO_EVENTS;
    protocol.events = NO_EVENTS as ProtocolEvent[];
    return events;
  }

  /**
   * Whether the transport should close soon: the closing handshake is under way (or the
   * connection failed) and the peer must now close its side. The I/O layer arms a timer and
   * destroys the transport if that does not happen in time.
   */
  closeExpected(): boolean {
    return connectionState(this.#protocol) === ConnectionState.Closing;
  }

  /**
   * Fails the connection for a reason found outside the byte stream (a limit the I/O layer
   * enforces, an internal error): sends a close frame with the code's close code if it can.
   */
  fail(code: ProtocolErrorCode, message: string): void {
    fail(this.#protocol, code, message);
  }
}
