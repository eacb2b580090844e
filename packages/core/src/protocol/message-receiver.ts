import { Buffer } from 'node:buffer';
import { ProtocolError } from '../errors/protocol-error.js';
import { Opcode } from '../frames/opcode.js';
import { isValidUtf8, Utf8Validator } from '../utf8/utf8-validator.js';
import { fail, failWith } from './closing-handshake.js';
import { FRAGMENT_OVERHEAD } from './limits.js';
import { MessageAssembler } from './message-assembler.js';
import { ReceiveMode } from './protocol-options.js';
import type { ProtocolState } from './protocol-state.js';

// The data messages received: each data frame's header checked against the message it starts
// or continues and against the size limits, then its payload taken through the message's
// extension (within the work budget, suspending when the extension stops at it), UTF-8
// validation of text, and out as `piece` or `message` events. Each function returns false when
// the connection failed.

/** Checks the header of a data frame (Text, Binary or Continuation) and starts a new message. */
export function receiveDataFrameHeader(
  protocol: ProtocolState,
  opcode: number,
  rsv: number,
  fin: boolean,
  length: number,
): boolean {
  if (opcode === Opcode.Continuation) {
    // RFC 6455 §5.4: a continuation frame only follows a first fragment with FIN clear.
    if (!protocol.messageInProgress) {
      return fail(protocol, 'WS_ERR_UNEXPECTED_CONTINUATION', 'Continuation frame without a message to continue');
    }
    // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control
    // frames and non-first fragments of a data message"; that bit is RSV1 (§6).
    if (rsv !== 0) return fail(protocol, 'WS_ERR_UNEXPECTED_RSV', 'RSV bits set on a continuation frame');
  } else {
    // RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the
    // fragments of another message unless an extension has been negotiated that can interpret the interleaving."
    if (protocol.messageInProgress) {
      return fail(protocol, 'WS_ERR_EXPECTED_CONTINUATION', 'New data frame inside a fragmented message');
    }
    // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
    // meanings for non-zero values".
    if ((rsv & ~protocol.extensionRsvBits) !== 0) {
      return fail(protocol, 'WS_ERR_UNEXPECTED_RSV', 'RSV bits set without a negotiated extension that defines them');
    }
    startMessage(protocol, opcode, rsv);
  }

  // Limits are checked from the header, before a byte of the payload is buffered.
  if (length > protocol.maxFrameSize) {
    return fail(protocol, 'WS_ERR_FRAME_TOO_BIG', `Frame of ${length} bytes exceeds maxFrameSize ${protocol.maxFrameSize}`);
  }
  const isWholeMessage = fin && opcode !== Opcode.Continuation;
  protocol.messageCharge += length + (isWholeMessage ? 0 : FRAGMENT_OVERHEAD);
  if (protocol.messageCharge > protocol.maxMessageSize) {
    return fail(
      protocol,
      'WS_ERR_MESSAGE_TOO_BIG',
      `Message exceeds maxMessageSize ${protocol.maxMessageSize} (fragments count ${FRAGMENT_OVERHEAD} bytes each)`,
    );
  }
  protocol.frameOpcode = opcode;
  protocol.frameIsWholeMessage = isWholeMessage;
  return true;
}

/** Takes the decoder's current piece of a data frame's payload. */
export function receiveDataPiece(protocol: ProtocolState, frameComplete: boolean): boolean {
  const decoder = protocol.decoder;
  const messageEnd = frameComplete && decoder.fin;
  const extension = protocol.messageExtension;
  if (extension === undefined) {
    // A text message that arrived whole, in one chunk, is checked at once by the native
    // validator; anything else goes through the incremental one.
    const wholeInOneView = protocol.frameIsWholeMessage && frameComplete && decoder.payloadPieceLength === decoder.payloadLength;
    if (!wholeInOneView && protocol.frameIsWholeMessage && protocol.receiveMode === ReceiveMode.Message) {
      const region = (protocol.assembler ??= new MessageAssembler()).nextRegion(decoder.payloadPieceLength, decoder.payloadLength);
      if (region !== undefined) {
        decoder.copyPayloadTo(region, 0);
        return onAssembledData(protocol, region, messageEnd);
      }
    }
    return onMessageData(protocol, decoder.payload, frameComplete, messageEnd, wholeInOneView);
  }
  const remaining = protocol.maxMessageSize - protocol.messageDecodedLength;
  const decoded = extension.decode(decoder.payload, messageEnd, remaining, Math.max(1, protocol.workLeft));
  return onDecoded(protocol, decoded, frameComplete, messageEnd);
}

/** Goes on with the piece an extension left at its budget. */
export function resumeDecode(protocol: ProtocolState): boolean {
  const { frameComplete, messageEnd } = protocol.decodeSuspended!;
  protocol.decodeSuspended = undefined;
  const remaining = protocol.maxMessageSize - protocol.messageDecodedLength;
  const decoded = protocol.messageExtension!.decodeMore(remaining, Math.max(1, protocol.workLeft));
  return onDecoded(protocol, decoded, frameComplete, messageEnd);
}

function startMessage(protocol: ProtocolState, opcode: number, rsv: number): void {
  protocol.messageOpcode = opcode;
  protocol.messageInProgress = true;
  protocol.messageStarted = true;
  protocol.messageCharge = 0;
  protocol.messageDecodedLength = 0;
  protocol.messageExtension = undefined;
  if (rsv !== 0) {
    for (const extension of protocol.extensions) {
      if ((rsv & extension.rsvBits) !== 0) protocol.messageExtension = extension;
    }
  }
  if (opcode === Opcode.Text) protocol.utf8?.reset();
}

/** What an extension decoded from a piece: checked, counted, delivered; suspended if it has more. */
function onDecoded(
  protocol: ProtocolState,
  decoded: Uint8Array | ProtocolError,
  frameComplete: boolean,
  messageEnd: boolean,
): boolean {
  if (decoded instanceof ProtocolError) return failWith(protocol, decoded);
  const data = toBuffer(decoded);
  protocol.messageDecodedLength += data.length;
  protocol.charge(data.length);
  // An extension must honour its budget; this check keeps a faulty one from lifting the cap.
  if (protocol.messageDecodedLength > protocol.maxMessageSize) {
    return fail(protocol, 'WS_ERR_MESSAGE_TOO_BIG', `Decoded message exceeds maxMessageSize ${protocol.maxMessageSize}`);
  }
  if (protocol.messageExtension!.decodePending) {
    // The rest of this piece's output comes on `continueReceiving`: what came so far ends
    // neither the frame nor the message.
    protocol.decodeSuspended = { frameComplete, messageEnd };
    protocol.suspended = true;
    return onMessageData(protocol, data, false, false, false);
  }
  return onMessageData(protocol, data, frameComplete, messageEnd, false);
}

/** A message's payload bytes (decoded): UTF-8 checked for text, then delivered or assembled. */
function onMessageData(
  protocol: ProtocolState,
  data: Buffer,
  frameComplete: boolean,
  messageEnd: boolean,
  wholeInOneView: boolean,
): boolean {
  const isText = protocol.messageOpcode === Opcode.Text;
  if (isText) {
    const valid = wholeInOneView ? isValidUtf8(data) : updateUtf8(protocol, data, messageEnd);
    // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that
    // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_."
    if (!valid) return fail(protocol, 'WS_ERR_INVALID_UTF8', 'Text message is not valid UTF-8');
  }

  if (protocol.receiveMode === ReceiveMode.Stream) {
    if (data.length > 0 || frameComplete) {
      protocol.pushEvent({
        type: 'piece',
        data,
        isBinary: !isText,
        messageStart: protocol.messageStarted,
        frameEnd: frameComplete,
        messageEnd,
      });
      protocol.messageStarted = false;
    }
  } else if (messageEnd && (protocol.assembler === undefined || protocol.assembler.isEmpty)) {
    protocol.pushEvent({ type: 'message', data, isBinary: !isText });
  } else {
    // A large message in one frame goes straight into its final buffer (receiveDataPiece);
    // anything else is kept as pieces and joined at the end.
    const assembler = (protocol.assembler ??= new MessageAssembler());
    assembler.append(data);
    if (messageEnd) {
      const message = assembler.take();
      // Joining a decoded message's pieces copies all of it at once: work like decoding it.
      if (protocol.messageExtension !== undefined) protocol.charge(message.length);
      protocol.pushEvent({ type: 'message', data: message, isBinary: !isText });
    }
  }
  if (messageEnd) protocol.messageInProgress = false;
  return true;
}

/**
 * Bytes the assembler already holds (unmasked straight into the message's final buffer): text
 * is checked as it comes, and the message goes out once complete.
 */
function onAssembledData(protocol: ProtocolState, data: Buffer, messageEnd: boolean): boolean {
  if (protocol.messageOpcode === Opcode.Text && !updateUtf8(protocol, data, messageEnd)) {
    // RFC 6455 §8.1, as in onMessageData.
    return fail(protocol, 'WS_ERR_INVALID_UTF8', 'Text message is not valid UTF-8');
  }
  if (messageEnd) {
    protocol.pushEvent({ type: 'message', data: protocol.assembler!.take(), isBinary: protocol.messageOpcode !== Opcode.Text });
    protocol.messageInProgress = false;
  }
  return true;
}

/** The incremental validator, for text that is fragmented, split across chunks or decoded by an extension. */
function updateUtf8(protocol: ProtocolState, data: Buffer, messageEnd: boolean): boolean {
  const utf8 = (protocol.utf8 ??= new Utf8Validator());
  return utf8.update(data) && (!messageEnd || utf8.finish());
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
