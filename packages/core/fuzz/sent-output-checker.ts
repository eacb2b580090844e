import { Buffer, isUtf8 } from 'node:buffer';
import { type OutgoingData, type PerMessageDeflate, SEND_EOF } from '@ws/core';
import { isRegisteredEchoCode, isSendableCloseCode } from './close-codes.js';
import { FuzzFailure, Invariant } from './fuzz-failure.js';
import { type SentFrame, SentFrameReader } from './sent-frame-reader.js';

/** A close frame the engine sent: its status code, or undefined for an empty body. */
export interface SentClose {
  readonly code: number | undefined;
}

/** What the engine wrote in one batch of `dataToSend()`. */
export interface OutputBatch {
  readonly close: SentClose | undefined;
  readonly eof: boolean;
  /** Frames other than the close frame. */
  readonly otherFrames: number;
}

const KNOWN_OPCODES = new Set([0x0, 0x1, 0x2, 0x8, 0x9, 0xa]);

/**
 * Reads everything an engine writes, checks each frame is well-formed for its side, and
 * matches what it wrote against what it had to write: automatic pongs against the pings that
 * called for them, and the application's sends (decompressed by the peer's extension) against
 * what was sent.
 */
export class SentOutputChecker {
  readonly #reader = new SentFrameReader();
  readonly #masks: boolean;
  readonly #peerDeflate: PerMessageDeflate | undefined;
  readonly #expectedMessages: { data: Buffer; isBinary: boolean }[] = [];
  readonly #expectedPings: Buffer[] = [];
  /** Pongs written and not yet matched with the ping that called for each. */
  readonly pongs: Buffer[] = [];
  #message: { parts: Buffer[]; isBinary: boolean; compressed: boolean } | undefined;
  #close: SentClose | undefined;
  #eof = false;
  /** Bytes of pongs and close frames: what the engine writes of its own accord. */
  automaticBytes = 0;

  constructor(side: 'server' | 'client', peerDeflate: PerMessageDeflate | undefined) {
    this.#masks = side === 'client';
    this.#peerDeflate = peerDeflate;
  }

  get close(): SentClose | undefined {
    return this.#close;
  }

  get eof(): boolean {
    return this.#eof;
  }

  expectMessage(data: Buffer, isBinary: boolean): void {
    this.#expectedMessages.push({ data, isBinary });
  }

  expectPing(data: Buffer): void {
    this.#expectedPings.push(data);
  }

  check(output: readonly OutgoingData[]): OutputBatch {
    let close: SentClose | undefined;
    let eof = false;
    let otherFrames = 0;
    for (const data of output) {
      if (this.#eof) throw new FuzzFailure(Invariant.AfterError, 'The engine wrote after SEND_EOF');
      if (data === SEND_EOF) {
        this.#eof = eof = true;
        continue;
      }
      if (!Buffer.isBuffer(data)) {
        throw new FuzzFailure(Invariant.Wellformed, 'dataToSend() returned neither a Buffer nor SEND_EOF');
      }
      this.#reader.push(data);
      for (let frame = this.#nextFrame(); frame !== undefined; frame = this.#nextFrame()) {
        if (this.#close !== undefined) {
          throw new FuzzFailure(
            Invariant.AfterError,
            `The engine wrote a frame (opcode ${frame.opcode}) after its close frame`,
          );
        }
        if (frame.opcode === 0x8) close = this.#onClose(frame);
        else otherFrames++;
      }
    }
    return { close, eof, otherFrames };
  }

  /** At the end: no frame left half-written, every send written. */
  finish(): void {
    if (this.#reader.bufferedLength !== 0) {
      throw new FuzzFailure(
        Invariant.Wellformed,
        `The output ends inside a frame (${this.#reader.bufferedLength} bytes)`,
      );
    }
    if (this.#expectedMessages.length > 0 || this.#expectedPings.length > 0 || this.#message !== undefined) {
      throw new FuzzFailure(Invariant.State, 'A message or ping the application sent was not written');
    }
  }

  #nextFrame(): SentFrame | undefined {
    let frame: SentFrame | undefined;
    try {
      frame = this.#reader.next();
    } catch (error) {
      throw new FuzzFailure(Invariant.Wellformed, (error as Error).message);
    }
    if (frame === undefined) return undefined;
    // RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server"; "A server MUST
    // NOT mask any frames that it sends to the client".
    if (frame.masked !== this.#masks) {
      throw new FuzzFailure(Invariant.Wellformed, `A frame was written ${frame.masked ? 'masked' : 'unmasked'}`);
    }
    // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
    if (!frame.minimalLength) {
      throw new FuzzFailure(
        Invariant.Wellformed,
        `A ${frame.payload.length}-byte payload's length was not minimally encoded`,
      );
    }
    if (!KNOWN_OPCODES.has(frame.opcode)) {
      throw new FuzzFailure(Invariant.Wellformed, `A frame with opcode ${frame.opcode} was written`);
    }
    if (frame.opcode >= 0x8) {
      if (!frame.fin || frame.rsv !== 0 || frame.payload.length > 125) {
        throw new FuzzFailure(Invariant.Wellformed, `A malformed control frame was written (opcode ${frame.opcode})`);
      }
      if (frame.opcode === 0x9) this.#onPing(frame.payload);
      if (frame.opcode === 0xa) {
        this.pongs.push(frame.payload);
        this.automaticBytes += frame.payload.length + 6;
      }
    } else {
      this.#onDataFrame(frame);
    }
    return frame;
  }

  #onClose(frame: SentFrame): SentClose {
    const payload = frame.payload;
    this.automaticBytes += payload.length + 6;
    if (payload.length === 1) {
      throw new FuzzFailure(Invariant.CloseCode, 'A close frame with a 1-byte body was written');
    }
    const code = payload.length === 0 ? undefined : payload.readUInt16BE(0);
    if (code !== undefined && !isSendableCloseCode(code) && !isRegisteredEchoCode(code)) {
      throw new FuzzFailure(
        Invariant.CloseCode,
        `A close frame with code ${code} was written; RFC 6455 §7.4 does not let an endpoint send it`,
      );
    }
    if (!isUtf8(payload.subarray(2))) {
      throw new FuzzFailure(Invariant.Wellformed, 'A close reason that is not UTF-8 was written');
    }
    this.#close = { code };
    return this.#close;
  }

  #onPing(payload: Buffer): void {
    const expected = this.#expectedPings.shift();
    if (expected === undefined || !expected.equals(payload)) {
      throw new FuzzFailure(Invariant.Wellformed, 'A ping the application did not send was written');
    }
  }

  #onDataFrame(frame: SentFrame): void {
    const first = frame.opcode !== 0x0;
    if (first === (this.#message !== undefined)) {
      throw new FuzzFailure(
        Invariant.Wellformed,
        first
          ? 'A data frame was written inside a fragmented message'
          : 'A continuation frame was written outside a message',
      );
    }
    // RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only.
    const allowedRsv = first && this.#peerDeflate !== undefined ? 0x40 : 0;
    if ((frame.rsv & ~allowedRsv) !== 0) {
      throw new FuzzFailure(Invariant.Wellformed, `A data frame was written with RSV bits 0x${frame.rsv.toString(16)}`);
    }
    if (first) this.#message = { parts: [], isBinary: frame.opcode === 0x2, compressed: frame.rsv === 0x40 };
    const message = this.#message!;
    let part: Uint8Array = frame.payload;
    if (message.compressed) {
      const decoded = this.#peerDeflate!.decode(frame.payload, frame.fin, Number.MAX_SAFE_INTEGER);
      if (!(decoded instanceof Uint8Array)) {
        throw new FuzzFailure(
          Invariant.Wellformed,
          `The peer cannot decompress a message the engine sent: ${decoded.message}`,
        );
      }
      part = decoded;
    }
    message.parts.push(Buffer.from(part));
    if (!frame.fin) return;
    this.#message = undefined;
    const data = Buffer.concat(message.parts);
    // RFC 6455 §5.6: text "is text data encoded as UTF-8"; strings the application passes are.
    if (!message.isBinary && !isUtf8(data)) {
      throw new FuzzFailure(Invariant.Wellformed, 'A text message that is not UTF-8 was written');
    }
    const expected = this.#expectedMessages.shift();
    if (expected === undefined || expected.isBinary !== message.isBinary || !expected.data.equals(data)) {
      throw new FuzzFailure(
        Invariant.Wellformed,
        `A ${data.length}-byte message the application did not send (or sent otherwise) was written`,
      );
    }
  }
}
