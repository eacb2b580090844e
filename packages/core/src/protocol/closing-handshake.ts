import { Buffer } from 'node:buffer';
import { CloseCode } from '../errors/close-code.js';
import type { ProtocolErrorCode } from '../errors/error-code.js';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { ProtocolError } from '../errors/protocol-error.js';
import { encodeClosePayload } from '../frames/close-payload.js';
import { FIN_BIT } from '../frames/frame-header.js';
import { Opcode } from '../frames/opcode.js';
import { ConnectionState, Side } from './connection-state.js';
import type { ProtocolEvent } from './protocol-event.js';
import type { ProtocolState } from './protocol-state.js';

const EMPTY_PAYLOAD = Buffer.alloc(0);
const STATE_NAMES = ['connecting', 'open', 'closing', 'closed'] as const;

/** The peer's close frame: its status code (1005 when it had none) and reason. */
export interface CloseFrameFields {
  code: number;
  reason: string;
}

/**
 * How far a connection has come in ending: the closing handshake (RFC 6455 §7), the close
 * frame held back for `sendCloseEcho()` (option `deferCloseEcho`), the failure, the
 * half-closes of the transport. A connection has none of it until it starts to end (a close
 * frame sent or received, a failure, EOF); until then it is open and reads and sends freely.
 */
export class ClosingHandshake {
  state: ConnectionState = ConnectionState.Open;
  /** Nothing more is read: the peer's close frame arrived, the connection failed, or the transport's read side ended. */
  inputEnded = false;
  closeSent = false;
  closeReceived: CloseFrameFields | undefined;
  /** The close frame waiting for `sendCloseEcho()`: the reply to the peer's, or the failure's. */
  closeEchoPending: Uint8Array | undefined;
  eofSent = false;
  eofReceived = false;
  /** The violation that failed the connection. */
  protocolError: ProtocolError | undefined;
}

/** The connection's state, Open until it starts to end. */
export function connectionState(protocol: ProtocolState): ConnectionState {
  return protocol.closing?.state ?? ConnectionState.Open;
}

/** The state's name, as an `InvalidStateError` reports it. */
export function stateName(protocol: ProtocolState): string {
  return STATE_NAMES[connectionState(protocol)];
}

/** Whether data and control frames may still be sent: the connection is open and sent no close frame. */
export function canSend(protocol: ProtocolState): boolean {
  const closing = protocol.closing;
  return closing === undefined || (!closing.closeSent && closing.state === ConnectionState.Open);
}

/** The application starts (or completes) the closing handshake; see `Protocol.sendClose`. */
export function sendClose(protocol: ProtocolState, code: number | undefined, reason: string): void {
  const closing = protocol.closing;
  if (closing !== undefined && (closing.closeSent || closing.state === ConnectionState.Closed)) {
    throw new InvalidStateError('A close frame was already sent', stateName(protocol));
  }
  const payload = encodeClosePayload(code, reason);
  // A failed connection closes with the failure's code, as it does when that close frame was
  // not held: the application closing in answer to the error does not replace it.
  if (closing?.protocolError !== undefined && closing.closeEchoPending !== undefined) {
    sendCloseEcho(protocol);
    return;
  }
  if (closing !== undefined) closing.closeEchoPending = undefined;
  writeClose(protocol, payload);
}

/** Sends the held close frame: the reply echoing the peer's status code, or the failure's. */
export function sendCloseEcho(protocol: ProtocolState): void {
  const closing = protocol.closing;
  const payload = closing?.closeEchoPending;
  if (closing === undefined || payload === undefined) return;
  closing.closeEchoPending = undefined;
  if (closing.closeSent || closing.state === ConnectionState.Closed) return;
  if (closing.protocolError === undefined) {
    writeClose(protocol, payload);
    return;
  }
  protocol.writer.writeFrame(FIN_BIT | Opcode.Close, payload);
  closing.closeSent = true;
  endAfterFailure(protocol, closing);
}

/** The peer's valid close frame arrived: nothing more is read, and it is answered. */
export function receiveClose(protocol: ProtocolState, received: CloseFrameFields): void {
  const closing = (protocol.closing ??= new ClosingHandshake());
  closing.closeReceived = received;
  // After the peer's close frame, nothing more is read: RFC 6455 §5.5.1 "The application MUST
  // NOT send any more data frames after sending a Close frame", so whatever follows is not data.
  closing.inputEnded = true;
  protocol.releaseMessage();
  protocol.pushEvent({ type: 'close', code: received.code, reason: received.reason });
  if (!closing.closeSent) {
    // RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
    // Close frame, the endpoint MUST send a Close frame in response. (When sending a Close
    // frame in response, the endpoint typically echos the status code it received.)" The
    // reason is echoed too, as browsers, `ws` and python-websockets do: a peer that closed
    // with (4001, "done") reads back what it said.
    const echo =
      received.code === CloseCode.NoStatusReceived ? EMPTY_PAYLOAD : encodeClosePayload(received.code, received.reason);
    if (protocol.deferCloseEcho) closing.closeEchoPending = echo;
    else writeClose(protocol, echo);
  } else {
    afterCloseHandshake(protocol, closing);
  }
}

/** The transport's read side ended, and what was received before the end is processed. */
export function receiveEof(protocol: ProtocolState): void {
  const closing = (protocol.closing ??= new ClosingHandshake());
  closing.eofReceived = true;
  closing.inputEnded = true;
  protocol.releaseMessage();
  // RFC 6455 §7.1.1: once the peer has closed its side, there is nothing left to wait for;
  // close ours too (the server, being the one that closes TCP first, may have already).
  if (!closing.eofSent) sendEof(protocol, closing);
  closing.state = ConnectionState.Closed;
}

/** Fails the connection with a new `ProtocolError` (see `failWith`); always false, for the receive loop. */
export function fail(protocol: ProtocolState, code: ProtocolErrorCode, message: string): false {
  return failWith(protocol, new ProtocolError(code, message));
}

/**
 * RFC 6455 §7.1.7 _Fail the WebSocket Connection_: "the client MUST _Close the WebSocket
 * Connection_, and MAY report the problem to the user"; "the server MUST _Close the WebSocket
 * Connection_, and SHOULD log the problem". A close frame with the error's code goes first
 * when one can still be sent. Nothing more is read afterwards.
 */
export function failWith(protocol: ProtocolState, error: ProtocolError): false {
  const closing = (protocol.closing ??= new ClosingHandshake());
  if (closing.protocolError !== undefined || closing.state === ConnectionState.Closed) return false;
  closing.protocolError = error;
  closing.inputEnded = true;
  protocol.releaseMessage();
  const answerable = protocol.deferCloseEcho && protocol.events.some(isWholeMessage);
  protocol.pushEvent({ type: 'error', error });
  if (!closing.closeSent && error.closeCode !== CloseCode.Abnormal) {
    const payload = encodeClosePayload(error.closeCode);
    // The messages that arrived before the violation were valid: like the reply to a close
    // frame, the failure's close frame waits until the application could answer them.
    if (answerable) {
      closing.closeEchoPending = payload;
      return false;
    }
    protocol.writer.writeFrame(FIN_BIT | Opcode.Close, payload);
    closing.closeSent = true;
  }
  endAfterFailure(protocol, closing);
  return false;
}

function writeClose(protocol: ProtocolState, payload: Uint8Array): void {
  const closing = (protocol.closing ??= new ClosingHandshake());
  protocol.writer.writeFrame(FIN_BIT | Opcode.Close, payload);
  closing.closeSent = true;
  closing.state = ConnectionState.Closing;
  if (closing.closeReceived !== undefined) afterCloseHandshake(protocol, closing);
}

/**
 * RFC 6455 §7.1.1: "The underlying TCP connection, in most normal cases, SHOULD be closed
 * first by the server". The server half-closes once a close frame went each way; the client
 * waits for the server's EOF (the I/O layer times that wait out).
 */
function afterCloseHandshake(protocol: ProtocolState, closing: ClosingHandshake): void {
  if (protocol.side === Side.Server && !closing.eofSent) sendEof(protocol, closing);
}

/** Once the failure's close frame is out (or none can be sent): nothing but the TCP close remains. */
function endAfterFailure(protocol: ProtocolState, closing: ClosingHandshake): void {
  closing.state = ConnectionState.Closing;
  if (protocol.side === Side.Server && !closing.eofSent) sendEof(protocol, closing);
}

function sendEof(protocol: ProtocolState, closing: ClosingHandshake): void {
  closing.eofSent = true;
  protocol.writer.writeEof();
}

/** A message the application has whole and may answer: an assembled one, or a stream's last piece. */
function isWholeMessage(event: ProtocolEvent): boolean {
  return event.type === 'message' || (event.type === 'piece' && event.messageEnd);
}
