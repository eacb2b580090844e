import { Buffer } from 'node:buffer';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import type { Extension } from '../extensions/extension.js';
import { FIN_BIT, MAX_CONTROL_PAYLOAD_LENGTH } from '../frames/frame-header.js';
import { Opcode } from '../frames/opcode.js';
import { canSend, stateName } from './closing-handshake.js';
import type { SendOptions } from './protocol-options.js';
import type { ProtocolState } from './protocol-state.js';

// The sending side of the application's messages: checks that a send is allowed now, chooses
// the extension that transforms a message, writes its data frames and keeps track of a message
// sent in fragments; writes pings, pongs and pre-built frames. Close frames are the closing
// handshake's (closing-handshake.ts).

/** Writes the first (or only) frame of a message, `opcode` being Text or Binary. */
export function sendMessage(
  protocol: ProtocolState,
  opcode: number,
  data: string | Uint8Array,
  options: SendOptions | undefined,
): void {
  checkCanSendData(protocol);
  const fin = options?.fin ?? true;
  checkNotInsideMessage(protocol);
  const extension = chooseExtension(protocol, data, options);
  // Only a message's first frame carries the extension's bit (RFC 7692 §6.1).
  const rsv = extension === undefined ? 0 : extension.rsvBits;
  writeDataFrame(protocol, (fin ? FIN_BIT : 0) | rsv | opcode, data, extension, fin);
  protocol.fragmentedSend = fin ? undefined : { extension };
}

/** Writes the next fragment of a message started with `fin: false`. */
export function sendContinuation(
  protocol: ProtocolState,
  data: string | Uint8Array,
  options: SendOptions | undefined,
): void {
  const message = protocol.fragmentedSend;
  if (message === undefined) {
    throw new InvalidStateError('No fragmented message is being sent', stateName(protocol));
  }
  checkCanSendData(protocol);
  const fin = options?.fin ?? true;
  writeDataFrame(protocol, (fin ? FIN_BIT : 0) | Opcode.Continuation, data, message.extension, fin);
  if (fin) protocol.fragmentedSend = undefined;
}

export function sendControlFrame(protocol: ProtocolState, opcode: number, data: Uint8Array | string): void {
  if (!canSend(protocol)) {
    throw new InvalidStateError('Cannot send a control frame after the closing handshake started', stateName(protocol));
  }
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
  if (payload.length > MAX_CONTROL_PAYLOAD_LENGTH) {
    throw new RangeError(`Control frame payload of ${payload.length} bytes exceeds 125`);
  }
  protocol.writer.writeFrame(FIN_BIT | opcode, payload);
}

/** Queues bytes that already form complete frames; only between messages. */
export function sendRaw(protocol: ProtocolState, frames: Buffer): void {
  checkCanSendData(protocol);
  checkNotInsideMessage(protocol);
  protocol.writer.writeRaw(frames);
}

function writeDataFrame(
  protocol: ProtocolState,
  firstByte: number,
  data: string | Uint8Array,
  extension: Extension | undefined,
  fin: boolean,
): void {
  const writer = protocol.writer;
  if (extension !== undefined) {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    writer.writeFrame(firstByte, extension.encode(bytes, fin));
  } else if (typeof data === 'string') {
    writer.writeTextFrame(firstByte, data);
  } else {
    writer.writeFrame(firstByte, data);
  }
}

/** The first negotiated extension that wants to transform a message of this size, unless `compress: false`. */
function chooseExtension(
  protocol: ProtocolState,
  data: string | Uint8Array,
  options: SendOptions | undefined,
): Extension | undefined {
  if (options?.compress === false || protocol.extensions.length === 0) return undefined;
  const byteLength = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  return protocol.extensions.find((extension) => extension.shouldEncode(byteLength));
}

function checkCanSendData(protocol: ProtocolState): void {
  if (!canSend(protocol)) {
    throw new InvalidStateError('Cannot send data after the closing handshake started', stateName(protocol));
  }
}

/** A message's fragments go out together (RFC 6455 §5.4): another message waits for its last one. */
function checkNotInsideMessage(protocol: ProtocolState): void {
  if (protocol.fragmentedSend !== undefined) {
    throw new InvalidStateError('A fragmented message is being sent; finish it with sendContinuation', stateName(protocol));
  }
}
