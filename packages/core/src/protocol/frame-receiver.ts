import { Buffer } from 'node:buffer';
import { ProtocolError } from '../errors/protocol-error.js';
import { parseClosePayload } from '../frames/close-payload.js';
import { DecodeStep } from '../frames/frame-decoder.js';
import { FIN_BIT, MAX_CONTROL_PAYLOAD_LENGTH } from '../frames/frame-header.js';
import { isControlOpcode, isKnownOpcode, Opcode } from '../frames/opcode.js';
import { fail, failWith, receiveClose } from './closing-handshake.js';
import { Side } from './connection-state.js';
import { receiveDataFrameHeader, receiveDataPiece, resumeDecode } from './message-receiver.js';
import { FRAME_WORK } from './protocol-options.js';
import type { ProtocolState } from './protocol-state.js';

const EMPTY_PAYLOAD = Buffer.alloc(0);

// The receiving side: runs the frame decoder over the input within the work budget (holding
// back input while suspended), checks each header against the rules that depend on the
// connection, hands data frames to message-receiver.ts and answers control frames itself. A
// violation fails the connection, after which nothing more is read.

/** Feeds bytes from the transport; see `Protocol.receiveData`. */
export function receiveData(protocol: ProtocolState, chunk: Buffer, workBudget: number): void {
  protocol.workUsed = 0;
  if (protocol.closing?.inputEnded === true || chunk.length === 0) return;
  if (protocol.suspended) {
    (protocol.heldChunks ??= []).push(chunk);
    return;
  }
  protocol.workLeft = workBudget;
  protocol.decoder.push(chunk);
  decodeFrames(protocol);
}

/** Goes on with the input a call left at its work budget; see `Protocol.continueReceiving`. */
export function continueReceiving(protocol: ProtocolState, workBudget: number): void {
  protocol.workUsed = 0;
  if (!protocol.suspended) return;
  protocol.suspended = false;
  protocol.workLeft = workBudget;
  if (protocol.closing?.inputEnded === true) {
    protocol.heldChunks = undefined;
    return;
  }
  if (protocol.decodeSuspended !== undefined && !resumeDecode(protocol)) return;
  if (protocol.suspended) return;
  decodeFrames(protocol);
}

/** Runs the decoder over the input until it needs more, fails, or the work budget is spent. */
function decodeFrames(protocol: ProtocolState): void {
  const decoder = protocol.decoder;
  for (;;) {
    if (protocol.workLeft <= 0) {
      protocol.suspended = true;
      return;
    }
    const step = decoder.next();
    if (step === DecodeStep.Payload) {
      if (!onPayload(protocol, decoder.frameComplete)) return;
      if (protocol.suspended) return;
    } else if (step === DecodeStep.Header) {
      protocol.charge(FRAME_WORK);
      if (!onHeader(protocol)) return;
    } else if (step === DecodeStep.NeedMore) {
      const held = protocol.heldChunks?.shift();
      if (held === undefined) return;
      decoder.push(held);
    } else {
      fail(protocol, decoder.errorCode!, decoder.errorMessage);
      return;
    }
  }
}

function onHeader(protocol: ProtocolState): boolean {
  const decoder = protocol.decoder;
  const opcode = decoder.opcode;
  const rsv = decoder.rsv;
  const length = decoder.payloadLength;

  if (protocol.side === Side.Server) {
    // RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not masked."
    if (!decoder.masked) return fail(protocol, 'WS_ERR_UNMASKED_FRAME', 'Client frames must be masked');
  } else if (decoder.masked) {
    // RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame."
    return fail(protocol, 'WS_ERR_UNEXPECTED_MASK', 'Server frames must not be masked');
  }

  // RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
  if (!isKnownOpcode(opcode)) {
    return fail(protocol, 'WS_ERR_INVALID_OPCODE', `Reserved opcode 0x${opcode.toString(16)}`);
  }

  if (!isControlOpcode(opcode)) return receiveDataFrameHeader(protocol, opcode, rsv, decoder.fin, length);

  // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
  // meanings for non-zero values"; RFC 7692 §6.1 gives RSV1 a meaning on data frames only.
  if (rsv !== 0) return fail(protocol, 'WS_ERR_UNEXPECTED_RSV', 'RSV bits set on a control frame');
  // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
  if (length > MAX_CONTROL_PAYLOAD_LENGTH) {
    return fail(protocol, 'WS_ERR_CONTROL_FRAME_TOO_LONG', `Control frame payload of ${length} bytes`);
  }
  if (!decoder.fin) return fail(protocol, 'WS_ERR_FRAGMENTED_CONTROL_FRAME', 'Control frames must not be fragmented');
  protocol.frameOpcode = opcode;
  protocol.controlFilled = 0;
  protocol.controlPayload = undefined;
  return true;
}

function onPayload(protocol: ProtocolState, frameComplete: boolean): boolean {
  if (isControlOpcode(protocol.frameOpcode)) return onControlPiece(protocol, protocol.decoder.payload, frameComplete);
  return receiveDataPiece(protocol, frameComplete);
}

function onControlPiece(protocol: ProtocolState, piece: Buffer, frameComplete: boolean): boolean {
  let payload: Buffer;
  if (frameComplete && protocol.controlFilled === 0) {
    // The common case: the whole control payload lies in one chunk. It is copied, because a
    // ping's or close's bytes may be kept by the application long after the chunk is reused.
    payload = piece.length === 0 ? EMPTY_PAYLOAD : Buffer.from(piece);
  } else {
    protocol.controlPayload ??= Buffer.allocUnsafe(protocol.decoder.payloadLength);
    piece.copy(protocol.controlPayload, protocol.controlFilled);
    protocol.controlFilled += piece.length;
    if (!frameComplete) return true;
    payload = protocol.controlPayload;
    protocol.controlPayload = undefined;
  }
  switch (protocol.frameOpcode) {
    case Opcode.Ping:
      return onPing(protocol, payload);
    case Opcode.Pong:
      protocol.pushEvent({ type: 'pong', data: payload });
      return true;
    default:
      return onClose(protocol, payload);
  }
}

function onPing(protocol: ProtocolState, payload: Buffer): boolean {
  // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
  // response, unless it already received a Close frame." and §5.5.3: "A Pong frame sent in
  // response to a Ping frame must have identical 'Application data' as found in the message
  // body of the Ping frame being replied to."
  if (protocol.closing?.closeSent !== true) {
    protocol.pendingPongs++;
    if (protocol.pendingPongs > protocol.maxPendingPongs) {
      return fail(protocol, 'WS_ERR_PING_FLOOD', `More than ${protocol.maxPendingPongs} pongs wait while the peer does not read`);
    }
    protocol.writer.writeFrame(FIN_BIT | Opcode.Pong, payload);
  }
  protocol.pushEvent({ type: 'ping', data: payload });
  return true;
}

/** The peer's close frame ends the reading: always false. */
function onClose(protocol: ProtocolState, payload: Buffer): false {
  const parsed = parseClosePayload(payload);
  if (parsed instanceof ProtocolError) return failWith(protocol, parsed);
  receiveClose(protocol, parsed);
  return false;
}
