import { Buffer, isUtf8 } from 'node:buffer';
import { Opcode, type PerMessageDeflate, isControlOpcode, isKnownOpcode, parseClosePayload } from '@ws/core';
import { describeFrame, describePayload } from '../peer/frame-reader.js';
import type { ScriptedPeer } from '../peer/scripted-peer.js';
import type { TargetKind } from './conformance-case.js';

/** What the implementation under test did, as a case judges it. */
export type ObservedEvent =
  | { readonly type: 'message'; readonly binary: boolean; readonly data: Buffer }
  | { readonly type: 'pong'; readonly payload: Buffer }
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  | { readonly type: 'eof' }
  | { readonly type: 'violation'; readonly description: string }
  | { readonly type: 'timeout' };

/** A message or a pong, the events a case expects in order. */
export type TrafficEvent = Extract<ObservedEvent, { type: 'message' | 'pong' }>;

/** "text message "Hello"", "pong (empty)", "close 1000", … */
export function describeEvent(event: ObservedEvent): string {
  switch (event.type) {
    case 'message':
      return `${event.binary ? 'binary' : 'text'} message ${describePayload(event.data)}`;
    case 'pong':
      return `pong ${describePayload(event.payload)}`;
    case 'close':
      return `close frame ${event.code === 1005 ? 'without status code' : `with code ${event.code}`}${
        event.reason === '' ? '' : ` ${JSON.stringify(event.reason.slice(0, 60))}`
      }`;
    case 'eof':
      return 'TCP connection closed';
    case 'violation':
      return `protocol violation: ${event.description}`;
    case 'timeout':
      return 'nothing';
  }
}

/**
 * The most a compressed message from the implementation may inflate to: far above any message
 * a case sends, so only a runaway stream hits it.
 */
const MAX_INFLATED_LENGTH = 256 * 1024 * 1024;

/**
 * Reads what the implementation under test sends, the way a conforming endpoint would: it
 * reassembles messages, answers pings (so a heartbeat cannot disturb a case), and checks every
 * frame against the rules RFC 6455 sets for the sender — a server must not mask, a client must,
 * no RSV bits without an extension, only known opcodes, unfragmented control frames of at most
 * 125 bytes, minimal lengths, valid UTF-8 in text and close reasons, valid close codes, and
 * nothing after its close frame. Any breach is reported as a 'violation' event.
 *
 * Once a case has negotiated permessage-deflate (`useDeflate`), RSV1 on the first frame of a
 * data message marks it compressed (RFC 7692 §6), and the message is inflated with the agreed
 * parameters: a window or context the implementation was not allowed to use shows up as data
 * that does not inflate, a violation.
 */
export class PeerObserver {
  readonly #peer: ScriptedPeer;
  readonly #target: TargetKind;
  readonly #note: (text: string) => void;
  #message: { binary: boolean; compressed: boolean; pieces: Buffer[] } | undefined;
  #lookahead: ObservedEvent | undefined;
  #closeReceived: { code: number; reason: string } | undefined;
  #eof = false;
  #deflate: PerMessageDeflate | undefined;
  #compressedMessages = 0;

  constructor(peer: ScriptedPeer, target: TargetKind, note: (text: string) => void) {
    this.#peer = peer;
    this.#target = target;
    this.#note = note;
  }

  /** The close frame the implementation sent, once one was seen. */
  get closeReceived(): { code: number; reason: string } | undefined {
    return this.#closeReceived;
  }

  /** Inflates the implementation's compressed messages with this negotiated extension from now on. */
  useDeflate(deflate: PerMessageDeflate): void {
    this.#deflate = deflate;
  }

  /** How many of the messages seen so far came compressed (RSV1 set). */
  get compressedMessages(): number {
    return this.#compressedMessages;
  }

  /** Whether the implementation's end of the TCP connection was seen. */
  get eof(): boolean {
    return this.#eof;
  }

  /** The next event, without taking it: the next `next()` returns it. */
  async peek(timeout: number): Promise<ObservedEvent> {
    const event = await this.next(timeout);
    if (event.type !== 'timeout') this.#lookahead = event;
    return event;
  }

  /** The next message, pong, close frame, end of stream or violation; 'timeout' if none in time. */
  async next(timeout: number): Promise<ObservedEvent> {
    const lookahead = this.#lookahead;
    if (lookahead !== undefined) {
      this.#lookahead = undefined;
      return lookahead;
    }
    const deadline = performance.now() + timeout;
    for (;;) {
      const event = await this.#peer.nextEvent({ timeout: Math.max(0, deadline - performance.now()) });
      switch (event.type) {
        case 'timeout':
          return { type: 'timeout' };
        case 'eof':
          this.#eof = true;
          return { type: 'eof' };
        case 'malformed':
          return { type: 'violation', description: `undecodable frame: ${event.description}` };
        case 'frame': {
          const observed = await this.#onFrame(event.frame);
          if (observed !== undefined) return observed;
        }
      }
    }
  }

  async #onFrame(frame: Parameters<typeof describeFrame>[0]): Promise<ObservedEvent | undefined> {
    const violation = (description: string): ObservedEvent => ({
      type: 'violation',
      description: `${description} — ${describeFrame(frame)}`,
    });
    if (this.#closeReceived !== undefined) {
      // RFC 6455 §5.5.1: "The application MUST NOT send any more data frames after sending a Close frame."
      return violation('a frame after its close frame');
    }
    if (this.#target === 'server' && frame.masked) {
      // RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the client."
      return violation('a server sent a masked frame');
    }
    if (this.#target === 'client' && !frame.masked) {
      // RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server".
      return violation('a client sent an unmasked frame');
    }
    const dataFrameStart = frame.opcode === Opcode.Text || frame.opcode === Opcode.Binary;
    if (frame.rsv1 && this.#deflate !== undefined && !dataFrameStart) {
      // RFC 7692 §6: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control
      // frames and non-first fragments of a data message."
      return violation('RSV1 (compressed) on a control frame or a non-first fragment');
    }
    if ((frame.rsv1 && this.#deflate === undefined) || frame.rsv2 || frame.rsv3) {
      // RFC 6455 §5.2: "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values."
      return violation('RSV bits set without a negotiated extension');
    }
    if (!isKnownOpcode(frame.opcode)) return violation('a reserved opcode');
    if (!frame.minimalLength) {
      // RFC 6455 §5.2: "Note that in all cases, the minimal number of bytes MUST be used to encode the length".
      return violation('a length not in its minimal encoding');
    }
    if (isControlOpcode(frame.opcode)) {
      // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (!frame.fin || frame.payload.length > 125) return violation('a fragmented or oversized control frame');
      if (frame.opcode === Opcode.Ping) {
        // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response".
        this.#note(`the implementation sent a ping ${describePayload(frame.payload)}; answered with a pong`);
        if (!this.#peer.closeFrameSent) await this.#peer.sendPong(frame.payload);
        return undefined;
      }
      if (frame.opcode === Opcode.Pong) return { type: 'pong', payload: frame.payload };
      const parsed = parseClosePayload(frame.payload);
      if (parsed instanceof Error) return violation(`an invalid close frame (${parsed.message})`);
      this.#closeReceived = parsed;
      return { type: 'close', code: parsed.code, reason: parsed.reason };
    }
    if (frame.opcode === Opcode.Continuation) {
      // RFC 6455 §5.4: a fragmented message starts with "a single frame with the FIN bit clear
      // and an opcode other than 0".
      if (this.#message === undefined) return violation('a continuation frame outside a fragmented message');
      this.#message.pieces.push(frame.payload);
    } else {
      // RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the fragments of another message".
      if (this.#message !== undefined) return violation('a new message inside a fragmented message');
      this.#message = { binary: frame.opcode === Opcode.Binary, compressed: frame.rsv1, pieces: [frame.payload] };
    }
    if (!frame.fin) return undefined;
    const { binary, compressed, pieces } = this.#message;
    this.#message = undefined;
    let data = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    if (compressed) {
      // RFC 7692 §7.2.2: "1. Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the
      // payload of the message. 2. Decompress the resulting data using DEFLATE."
      const inflated = this.#deflate!.decode(data, true, MAX_INFLATED_LENGTH);
      if (inflated instanceof Error) return violation(`a compressed message that does not inflate with the agreed parameters (${inflated.message})`);
      this.#compressedMessages++;
      data = Buffer.from(inflated.buffer, inflated.byteOffset, inflated.byteLength);
    }
    // RFC 6455 §5.6: "the whole message MUST contain valid UTF-8". Checked with Node's validator
    // rather than the core's, so that a bug in the core's cannot pass its own judge.
    if (!binary && !isUtf8(data)) return violation('a text message that is not valid UTF-8');
    return { type: 'message', binary, data };
  }
}
