import { Buffer } from 'node:buffer';
import { CloseCode } from '../errors/close-code.js';
import type { ProtocolErrorCode } from '../errors/error-code.js';
import { InvalidStateError } from '../errors/invalid-state-error.js';
import { ProtocolError } from '../errors/protocol-error.js';
import type { Extension } from '../extensions/extension.js';
import { encodeClosePayload, parseClosePayload } from '../frames/close-payload.js';
import { DecodeStep, FrameDecoder } from '../frames/frame-decoder.js';
import { FIN_BIT, MAX_CONTROL_PAYLOAD_LENGTH } from '../frames/frame-header.js';
import { isControlOpcode, isKnownOpcode, Opcode } from '../frames/opcode.js';
import { isValidUtf8, Utf8Validator } from '../utf8/utf8-validator.js';
import { ConnectionState, Side } from './connection-state.js';
import { FrameWriter, type OutgoingData } from './frame-writer.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_PENDING_PONGS,
  FRAGMENT_OVERHEAD,
  type ProtocolLimits,
} from './limits.js';
import { MessageAssembler } from './message-assembler.js';
import type { ProtocolEvent } from './protocol-event.js';

/** How incoming data messages are delivered. */
export const ReceiveMode = {
  /** One `message` event per message, its fragments assembled. */
  Message: 'message',
  /** `piece` events as payload bytes arrive, never assembled. */
  Stream: 'stream',
} as const;

export type ReceiveMode = (typeof ReceiveMode)[keyof typeof ReceiveMode];

export interface ProtocolOptions extends ProtocolLimits {
  readonly receiveMode?: ReceiveMode;
  /**
   * Hold the reply to the peer's close frame until the I/O layer calls `sendCloseEcho()`, so
   * the application can still answer the messages that arrived before it. RFC 6455 §5.5.1:
   * "An endpoint MAY delay sending a Close frame until its current message is sent". The
   * close frame that fails the connection is held the same way when whole messages arrived
   * before the violation and were not handed out yet. Default false: either close frame is
   * written as soon as the input that calls for it is parsed.
   */
  readonly deferCloseEcho?: boolean;
  /** Extensions negotiated in the handshake, in the order the response listed them. */
  readonly extensions?: readonly Extension[];
  /**
   * The most work one `receiveData` (or `continueReceiving`) call does: each frame counts
   * `FRAME_WORK` and each byte an extension decodes (inflates) counts one. Past it, the call
   * stops with the rest of the input kept and `hasPendingWork` set; the I/O layer calls
   * `continueReceiving()` later (on the next turn of its event loop), so a flood of tiny frames
   * or a small message that inflates to megabytes is worked through in bounded steps. Default
   * Infinity: everything received is processed at once.
   */
  readonly workBudget?: number;
}

/** What one frame costs against `workBudget`: about what decoding 256 bytes of inflated output does. */
export const FRAME_WORK = 256;

export interface SendOptions {
  /** False leaves the message open: more fragments follow with `sendContinuation`. Default true. */
  readonly fin?: boolean;
  /** False sends this message untransformed by the negotiated extensions. Default true. */
  readonly compress?: boolean;
}

const EMPTY_PAYLOAD = Buffer.alloc(0);
const NO_EVENTS: readonly ProtocolEvent[] = Object.freeze([]);
const NO_EXTENSIONS: readonly Extension[] = Object.freeze([]);

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
  readonly #decoder = new FrameDecoder();
  readonly #writer: FrameWriter;
  // Created on first need: most connections never receive a fragmented message, and a text
  // message that arrives whole is validated natively. An idle connection holds neither.
  #assembler: MessageAssembler | undefined;
  #utf8: Utf8Validator | undefined;
  readonly #receiveMode: ReceiveMode;
  readonly #maxFrameSize: number;
  readonly #maxMessageSize: number;
  readonly #maxPendingPongs: number;
  readonly #extensions: readonly Extension[];
  readonly #extensionRsvBits: number;
  readonly #deferCloseEcho: boolean;

  #state: ConnectionState = ConnectionState.Open;
  /** `NO_EVENTS` (shared, never written to) until the first event after a hand-over. */
  #events: ProtocolEvent[] = NO_EVENTS as ProtocolEvent[];

  // The frame being received.
  #frameOpcode = 0;
  #frameIsWholeMessage = false;
  #controlPayload: Buffer | undefined;
  #controlFilled = 0;

  // The message being received.
  #messageOpcode = 0;
  #messageInProgress = false;
  #messageExtension: Extension | undefined;
  #messageCharge = 0;
  /** Bytes an extension has decoded for the current message: its budget, in either receive mode. */
  #messageDecodedLength = 0;
  #messageStarted = false;

  // The message being sent.
  #sendingFragmented = false;
  #sendingExtension: Extension | undefined;

  #pendingPongs = 0;
  readonly #workBudget: number;
  #workLeft = Infinity;
  #workUsed = 0;
  /** Input received while the processing of earlier input is suspended, in order. */
  #heldChunks: Buffer[] | undefined;
  /** Processing stopped at the work budget: `continueReceiving` goes on. */
  #suspended = false;
  /** The piece whose decoding the extension left at its budget: whether it ends its frame and message. */
  #decodeSuspended: { readonly frameComplete: boolean; readonly messageEnd: boolean } | undefined;
  #discardInput = false;
  #closeSent = false;
  #closeReceived: { code: number; reason: string } | undefined;
  #closeEchoPending: Uint8Array | undefined;
  #eofSent = false;
  #eofReceived = false;
  #protocolError: ProtocolError | undefined;

  constructor(side: Side, options: ProtocolOptions = {}, maskKeySource?: () => Uint8Array) {
    this.side = side;
    this.#writer = new FrameWriter(side === Side.Client ? maskKeySource : undefined);
    if (side === Side.Client && maskKeySource === undefined) {
      throw new TypeError('A client protocol needs a mask-key source');
    }
    this.#receiveMode = options.receiveMode ?? ReceiveMode.Message;
    this.#maxFrameSize = positiveLimit(options.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, 'maxFrameSize');
    this.#maxMessageSize = positiveLimit(options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize');
    this.#maxPendingPongs = positiveLimit(options.maxPendingPongs, DEFAULT_MAX_PENDING_PONGS, 'maxPendingPongs');
    this.#extensions = options.extensions ?? NO_EXTENSIONS;
    let rsvBits = 0;
    for (const extension of this.#extensions) {
      if ((rsvBits & extension.rsvBits) !== 0) {
        throw new TypeError(`Extensions claim the same RSV bit (${extension.name})`);
      }
      rsvBits |= extension.rsvBits;
    }
    this.#extensionRsvBits = rsvBits;
    this.#deferCloseEcho = options.deferCloseEcho ?? false;
    this.#workBudget = positiveLimit(options.workBudget, Infinity, 'workBudget');
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The violation that failed the connection, if the peer broke the protocol. */
  get protocolError(): ProtocolError | undefined {
    return this.#protocolError;
  }

  /** A message was started with `fin: false` and its final fragment not sent yet. */
  get isSendingFragmented(): boolean {
    return this.#sendingFragmented;
  }

  get closeSent(): boolean {
    return this.#closeSent;
  }

  /** The peer's close frame, once received. */
  get closeReceived(): { readonly code: number; readonly reason: string } | undefined {
    return this.#closeReceived;
  }

  /**
   * RFC 6455 §7.1.5: the close code is the one in the first Close frame received, or 1006
   * ("If _The WebSocket Connection is Closed_ and no Close control frame was received by the
   * endpoint (such as could occur if the underlying transport connection is lost), _The
   * WebSocket Connection Close Code_ is considered to be 1006").
   */
  get closeCode(): number {
    return this.#closeReceived?.code ?? CloseCode.Abnormal;
  }

  get closeReason(): string {
    return this.#closeReceived?.reason ?? '';
  }

  /** RFC 6455 §7.1.4: the closing handshake completed (a close frame went each way). */
  get wasClean(): boolean {
    return this.#closeSent && this.#closeReceived !== undefined && this.#protocolError === undefined;
  }

  // ---- Input -------------------------------------------------------------------------------

  /** Feeds bytes from the transport. Never throws on peer input: a violation fails the connection. */
  receiveData(chunk: Buffer, workBudget = this.#workBudget): void {
    this.#workUsed = 0;
    if (this.#discardInput || chunk.length === 0) return;
    if (this.#suspended) {
      (this.#heldChunks ??= []).push(chunk);
      return;
    }
    this.#workLeft = workBudget;
    this.#decoder.push(chunk);
    this.#decodeFrames();
  }

  /** Whether processing stopped at the work budget with input left: call `continueReceiving()`. */
  get hasPendingWork(): boolean {
    return this.#suspended;
  }

  /**
   * Goes on with the input a call left at its work budget (see `workBudget`); `workBudget`
   * bounds this call instead (an I/O layer sharing one budget among its connections).
   */
  continueReceiving(workBudget = this.#workBudget): void {
    this.#continue(workBudget);
  }

  /** The work the last `receiveData` or `continueReceiving` did, in `workBudget` units. */
  get workDone(): number {
    return this.#workUsed;
  }

  #continue(budget: number): void {
    this.#workUsed = 0;
    if (!this.#suspended) return;
    this.#suspended = false;
    this.#workLeft = budget;
    if (this.#discardInput) {
      this.#heldChunks = undefined;
      return;
    }
    if (this.#decodeSuspended !== undefined && !this.#resumeDecode()) return;
    if (this.#suspended) return;
    this.#decodeFrames();
  }

  #charge(work: number): void {
    this.#workLeft -= work;
    this.#workUsed += work;
  }

  /** Runs the decoder over the input until it needs more, fails, or the work budget is spent. */
  #decodeFrames(): void {
    const decoder = this.#decoder;
    for (;;) {
      if (this.#workLeft <= 0) {
        this.#suspended = true;
        return;
      }
      const step = decoder.next();
      if (step === DecodeStep.Payload) {
        if (!this.#onPayload(decoder.payload, decoder.frameComplete)) return;
        if (this.#suspended) return;
      } else if (step === DecodeStep.Header) {
        this.#charge(FRAME_WORK);
        if (!this.#onHeader()) return;
      } else if (step === DecodeStep.NeedMore) {
        const held = this.#heldChunks?.shift();
        if (held === undefined) return;
        decoder.push(held);
      } else {
        this.#fail(decoder.errorCode!, decoder.errorMessage);
        return;
      }
    }
  }

  /** The transport's read side ended. */
  receiveEof(): void {
    if (this.#eofReceived) return;
    // What was received before the end is processed first (a close frame may be in it).
    this.#continue(Infinity);
    this.#eofReceived = true;
    this.#discardInput = true;
    this.#releaseMessage();
    // RFC 6455 §7.1.1: once the peer has closed its side, there is nothing left to wait for;
    // close ours too (the server, being the one that closes TCP first, may have already).
    if (!this.#eofSent) this.#sendEof();
    this.#state = ConnectionState.Closed;
    // The transport is gone: extensions release what they hold (zlib engines).
    for (const extension of this.#extensions) extension.dispose();
  }

  // ---- Output ------------------------------------------------------------------------------

  sendText(data: string | Uint8Array, options?: SendOptions): void {
    this.#sendDataFrame(Opcode.Text, data, options);
  }

  sendBinary(data: Uint8Array, options?: SendOptions): void {
    this.#sendDataFrame(Opcode.Binary, data, options);
  }

  /** Sends the next fragment of a message started with `fin: false`. */
  sendContinuation(data: string | Uint8Array, options?: SendOptions): void {
    if (!this.#sendingFragmented) {
      throw new InvalidStateError('No fragmented message is being sent', this.#stateName());
    }
    this.#sendDataFrame(Opcode.Continuation, data, options);
  }

  sendPing(data: Uint8Array | string = EMPTY_PAYLOAD): void {
    this.#sendControlFrame(Opcode.Ping, data);
  }

  sendPong(data: Uint8Array | string = EMPTY_PAYLOAD): void {
    this.#sendControlFrame(Opcode.Pong, data);
  }

  /**
   * Queues bytes that already form complete frames, built once by `encodeFrame` for many
   * connections (a broadcast). Only between messages: never inside a fragmented one.
   */
  sendRaw(frames: Buffer): void {
    if (this.#closeSent || this.#state !== ConnectionState.Open) {
      throw new InvalidStateError('Cannot send data after the closing handshake started', this.#stateName());
    }
    if (this.#sendingFragmented) {
      throw new InvalidStateError('A fragmented message is being sent; finish it with sendContinuation', this.#stateName());
    }
    this.#writer.writeRaw(frames);
  }

  /**
   * Starts (or completes) the closing handshake. Without a code, the close frame has no body
   * and the peer sees 1005. Throws RangeError for a code that may not be sent or a
   * reason longer than 123 UTF-8 bytes, and when a close frame was already sent.
   */
  sendClose(code?: number, reason = ''): void {
    if (this.#closeSent || this.#state === ConnectionState.Closed) {
      throw new InvalidStateError('A close frame was already sent', this.#stateName());
    }
    const payload = encodeClosePayload(code, reason);
    // A failed connection closes with the failure's code, as it does when that close frame was
    // not held: the application closing in answer to the error does not replace it.
    if (this.#protocolError !== undefined && this.#closeEchoPending !== undefined) {
      this.sendCloseEcho();
      return;
    }
    this.#closeEchoPending = undefined;
    this.#writeClose(payload);
  }

  /**
   * Whether a close frame waits for `sendCloseEcho()` (option `deferCloseEcho`): the reply to
   * the peer's close frame, or the one failing the connection after messages it preceded.
   */
  get closeEchoPending(): boolean {
    return this.#closeEchoPending !== undefined;
  }

  /** Sends the held close frame: the reply echoing the peer's status code, or the failure's. */
  sendCloseEcho(): void {
    const payload = this.#closeEchoPending;
    if (payload === undefined) return;
    this.#closeEchoPending = undefined;
    if (this.#closeSent || this.#state === ConnectionState.Closed) return;
    if (this.#protocolError === undefined) {
      this.#writeClose(payload);
      return;
    }
    this.#writer.writeFrame(FIN_BIT | Opcode.Close, payload);
    this.#closeSent = true;
    this.#endAfterFailure();
  }

  /**
   * The I/O layer reports that everything handed out by `dataToSend()` has been written
   * (the transport is not backed up), which empties the allowance of pending pongs.
   */
  outputDrained(): void {
    this.#pendingPongs = 0;
  }

  /** Everything to write to the transport since the last call, `SEND_EOF` meaning half-close. */
  dataToSend(): OutgoingData[] {
    return this.#writer.take();
  }

  /** Whether `dataToSend()` has anything. */
  get hasDataToSend(): boolean {
    return this.#writer.hasOutput;
  }

  /** Events since the last call, in arrival order. */
  eventsReceived(): readonly ProtocolEvent[] {
    const events = this.#events;
    if (events.length === 0) return NO_EVENTS;
    this.#events = NO_EVENTS as ProtocolEvent[];
    return events;
  }

  /**
   * Whether the transport should close soon: the closing handshake is under way (or the
   * connection failed) and the peer must now close its side. The I/O layer arms a timer and
   * destroys the transport if that does not happen in time.
   */
  closeExpected(): boolean {
    return this.#state === ConnectionState.Closing;
  }

  /**
   * Fails the connection for a reason found outside the byte stream (a limit the I/O layer
   * enforces, an internal error): sends a close frame with the code's close code if it can.
   */
  fail(code: ProtocolErrorCode, message: string): void {
    this.#fail(code, message);
  }

  // ---- Receiving frames --------------------------------------------------------------------

  #onHeader(): boolean {
    const decoder = this.#decoder;
    const opcode = decoder.opcode;
    const rsv = decoder.rsv;
    const length = decoder.payloadLength;

    if (this.side === Side.Server) {
      // RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not masked."
      if (!decoder.masked) return this.#fail('WS_ERR_UNMASKED_FRAME', 'Client frames must be masked');
    } else if (decoder.masked) {
      // RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame."
      return this.#fail('WS_ERR_UNEXPECTED_MASK', 'Server frames must not be masked');
    }

    // RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    if (!isKnownOpcode(opcode)) {
      return this.#fail('WS_ERR_INVALID_OPCODE', `Reserved opcode 0x${opcode.toString(16)}`);
    }

    if (isControlOpcode(opcode)) {
      // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
      // meanings for non-zero values"; RFC 7692 §6.1 gives RSV1 a meaning on data frames only.
      if (rsv !== 0) return this.#fail('WS_ERR_UNEXPECTED_RSV', 'RSV bits set on a control frame');
      // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (length > MAX_CONTROL_PAYLOAD_LENGTH) {
        return this.#fail('WS_ERR_CONTROL_FRAME_TOO_LONG', `Control frame payload of ${length} bytes`);
      }
      if (!decoder.fin) return this.#fail('WS_ERR_FRAGMENTED_CONTROL_FRAME', 'Control frames must not be fragmented');
      this.#frameOpcode = opcode;
      this.#controlFilled = 0;
      this.#controlPayload = undefined;
      return true;
    }

    if (opcode === Opcode.Continuation) {
      // RFC 6455 §5.4: a continuation frame only follows a first fragment with FIN clear.
      if (!this.#messageInProgress) {
        return this.#fail('WS_ERR_UNEXPECTED_CONTINUATION', 'Continuation frame without a message to continue');
      }
      // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control
      // frames and non-first fragments of a data message"; that bit is RSV1 (§6).
      if (rsv !== 0) return this.#fail('WS_ERR_UNEXPECTED_RSV', 'RSV bits set on a continuation frame');
    } else {
      // RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved between the
      // fragments of another message unless an extension has been negotiated that can interpret the interleaving."
      if (this.#messageInProgress) {
        return this.#fail('WS_ERR_EXPECTED_CONTINUATION', 'New data frame inside a fragmented message');
      }
      if ((rsv & ~this.#extensionRsvBits) !== 0) {
        return this.#fail('WS_ERR_UNEXPECTED_RSV', 'RSV bits set without a negotiated extension that defines them');
      }
      this.#startMessage(opcode, rsv);
    }

    // Limits are checked from the header, before a byte of the payload is buffered.
    if (length > this.#maxFrameSize) {
      return this.#fail('WS_ERR_FRAME_TOO_BIG', `Frame of ${length} bytes exceeds maxFrameSize ${this.#maxFrameSize}`);
    }
    const isWholeMessage = decoder.fin && opcode !== Opcode.Continuation;
    this.#messageCharge += length + (isWholeMessage ? 0 : FRAGMENT_OVERHEAD);
    if (this.#messageCharge > this.#maxMessageSize) {
      return this.#fail(
        'WS_ERR_MESSAGE_TOO_BIG',
        `Message exceeds maxMessageSize ${this.#maxMessageSize} (fragments count ${FRAGMENT_OVERHEAD} bytes each)`,
      );
    }
    this.#frameOpcode = opcode;
    this.#frameIsWholeMessage = isWholeMessage;
    return true;
  }

  #startMessage(opcode: number, rsv: number): void {
    this.#messageOpcode = opcode;
    this.#messageInProgress = true;
    this.#messageStarted = true;
    this.#messageCharge = 0;
    this.#messageDecodedLength = 0;
    this.#messageExtension = undefined;
    if (rsv !== 0) {
      for (const extension of this.#extensions) {
        if ((rsv & extension.rsvBits) !== 0) this.#messageExtension = extension;
      }
    }
    if (opcode === Opcode.Text) this.#utf8?.reset();
  }

  #onPayload(piece: Buffer, frameComplete: boolean): boolean {
    if (isControlOpcode(this.#frameOpcode)) return this.#onControlPiece(piece, frameComplete);

    const messageEnd = frameComplete && this.#decoder.fin;
    const extension = this.#messageExtension;
    if (extension === undefined) {
      // A text message that arrived whole, in one chunk, is checked at once by the native
      // validator; anything else goes through the incremental one.
      const wholeInOneView = this.#frameIsWholeMessage && frameComplete && piece.length === this.#decoder.payloadLength;
      return this.#onMessageData(piece, frameComplete, messageEnd, wholeInOneView);
    }
    const remaining = this.#maxMessageSize - this.#messageDecodedLength;
    const decoded = extension.decode(piece, messageEnd, remaining, Math.max(1, this.#workLeft));
    return this.#onDecoded(decoded, frameComplete, messageEnd);
  }

  /** Goes on with the piece an extension left at its budget; false when the connection failed. */
  #resumeDecode(): boolean {
    const { frameComplete, messageEnd } = this.#decodeSuspended!;
    this.#decodeSuspended = undefined;
    const remaining = this.#maxMessageSize - this.#messageDecodedLength;
    const decoded = this.#messageExtension!.decodeMore(remaining, Math.max(1, this.#workLeft));
    return this.#onDecoded(decoded, frameComplete, messageEnd);
  }

  /** What an extension decoded from a piece: checked, counted, delivered; suspended if it has more. */
  #onDecoded(decoded: Uint8Array | ProtocolError, frameComplete: boolean, messageEnd: boolean): boolean {
    if (decoded instanceof ProtocolError) return this.#failWith(decoded);
    const data = toBuffer(decoded);
    this.#messageDecodedLength += data.length;
    this.#charge(data.length);
    // An extension must honour its budget; this check keeps a faulty one from lifting the cap.
    if (this.#messageDecodedLength > this.#maxMessageSize) {
      return this.#fail('WS_ERR_MESSAGE_TOO_BIG', `Decoded message exceeds maxMessageSize ${this.#maxMessageSize}`);
    }
    if (this.#messageExtension!.decodePending) {
      // The rest of this piece's output comes on `continueReceiving`: what came so far ends
      // neither the frame nor the message.
      this.#decodeSuspended = { frameComplete, messageEnd };
      this.#suspended = true;
      return this.#onMessageData(data, false, false, false);
    }
    return this.#onMessageData(data, frameComplete, messageEnd, false);
  }

  /** A message's payload bytes (decoded): UTF-8 checked for text, then delivered or assembled. */
  #onMessageData(data: Buffer, frameComplete: boolean, messageEnd: boolean, wholeInOneView: boolean): boolean {
    const isText = this.#messageOpcode === Opcode.Text;
    if (isText) {
      const valid = wholeInOneView ? isValidUtf8(data) : this.#updateUtf8(data, messageEnd);
      // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that
      // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_."
      if (!valid) return this.#fail('WS_ERR_INVALID_UTF8', 'Text message is not valid UTF-8');
    }

    if (this.#receiveMode === ReceiveMode.Stream) {
      if (data.length > 0 || frameComplete) {
        this.#pushEvent({
          type: 'piece',
          data,
          isBinary: !isText,
          messageStart: this.#messageStarted,
          frameEnd: frameComplete,
          messageEnd,
        });
        this.#messageStarted = false;
      }
    } else if (messageEnd && (this.#assembler === undefined || this.#assembler.isEmpty)) {
      this.#pushEvent({ type: 'message', data, isBinary: !isText });
    } else {
      const assembler = (this.#assembler ??= new MessageAssembler());
      // A message in one frame has the length its header gave: the assembler can copy each
      // piece straight into the final buffer.
      const knownLength =
        this.#frameIsWholeMessage && this.#messageExtension === undefined ? this.#decoder.payloadLength : undefined;
      assembler.append(data, knownLength);
      if (messageEnd) {
        const message = assembler.take();
        // Joining a decoded message's pieces copies all of it at once: work like decoding it.
        if (this.#messageExtension !== undefined) this.#charge(message.length);
        this.#pushEvent({ type: 'message', data: message, isBinary: !isText });
      }
    }
    if (messageEnd) this.#messageInProgress = false;
    return true;
  }

  #onControlPiece(piece: Buffer, frameComplete: boolean): boolean {
    let payload: Buffer;
    if (frameComplete && this.#controlFilled === 0) {
      // The common case: the whole control payload lies in one chunk. It is copied, because a
      // ping's or close's bytes may be kept by the application long after the chunk is reused.
      payload = piece.length === 0 ? EMPTY_PAYLOAD : Buffer.from(piece);
    } else {
      this.#controlPayload ??= Buffer.allocUnsafe(this.#decoder.payloadLength);
      piece.copy(this.#controlPayload, this.#controlFilled);
      this.#controlFilled += piece.length;
      if (!frameComplete) return true;
      payload = this.#controlPayload;
      this.#controlPayload = undefined;
    }
    switch (this.#frameOpcode) {
      case Opcode.Ping:
        return this.#onPing(payload);
      case Opcode.Pong:
        this.#pushEvent({ type: 'pong', data: payload });
        return true;
      default:
        return this.#onClose(payload);
    }
  }

  #onPing(payload: Buffer): boolean {
    // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    // response, unless it already received a Close frame." and §5.5.3: "A Pong frame sent in
    // response to a Ping frame must have identical 'Application data' as found in the message
    // body of the Ping frame being replied to."
    if (!this.#closeSent) {
      this.#pendingPongs++;
      if (this.#pendingPongs > this.#maxPendingPongs) {
        return this.#fail('WS_ERR_PING_FLOOD', `More than ${this.#maxPendingPongs} pongs wait while the peer does not read`);
      }
      this.#writer.writeFrame(FIN_BIT | Opcode.Pong, payload);
    }
    this.#pushEvent({ type: 'ping', data: payload });
    return true;
  }

  #onClose(payload: Buffer): boolean {
    const parsed = parseClosePayload(payload);
    if (parsed instanceof ProtocolError) return this.#failWith(parsed);
    this.#closeReceived = parsed;
    // After the peer's close frame, nothing more is read: RFC 6455 §5.5.1 "The application MUST
    // NOT send any more data frames after sending a Close frame", so whatever follows is not data.
    this.#discardInput = true;
    this.#releaseMessage();
    this.#pushEvent({ type: 'close', code: parsed.code, reason: parsed.reason });
    if (!this.#closeSent) {
      // RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
      // Close frame, the endpoint MUST send a Close frame in response. (When sending a Close
      // frame in response, the endpoint typically echos the status code it received.)" The
      // reason is echoed too, as browsers, `ws` and python-websockets do: a peer that closed
      // with (4001, "done") reads back what it said.
      const echo =
        parsed.code === CloseCode.NoStatusReceived ? EMPTY_PAYLOAD : encodeClosePayload(parsed.code, parsed.reason);
      if (this.#deferCloseEcho) this.#closeEchoPending = echo;
      else this.#writeClose(echo);
    } else {
      this.#afterCloseHandshake();
    }
    return false;
  }

  // ---- Sending frames ----------------------------------------------------------------------

  #sendDataFrame(opcode: number, data: string | Uint8Array, options: SendOptions | undefined): void {
    if (this.#closeSent || this.#state !== ConnectionState.Open) {
      throw new InvalidStateError('Cannot send data after the closing handshake started', this.#stateName());
    }
    const fin = options?.fin ?? true;
    const isFirstFrame = opcode !== Opcode.Continuation;
    if (isFirstFrame && this.#sendingFragmented) {
      throw new InvalidStateError('A fragmented message is being sent; finish it with sendContinuation', this.#stateName());
    }
    let rsv = 0;
    if (isFirstFrame) {
      this.#sendingExtension = undefined;
      if (options?.compress !== false && this.#extensions.length > 0) {
        const byteLength = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        this.#sendingExtension = this.#extensions.find((extension) => extension.shouldEncode(byteLength));
        if (this.#sendingExtension !== undefined) rsv = this.#sendingExtension.rsvBits;
      }
    }
    const firstByte = (fin ? FIN_BIT : 0) | rsv | opcode;
    if (this.#sendingExtension !== undefined) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      this.#writer.writeFrame(firstByte, this.#sendingExtension.encode(bytes, fin));
    } else if (typeof data === 'string') {
      this.#writer.writeTextFrame(firstByte, data);
    } else {
      this.#writer.writeFrame(firstByte, data);
    }
    this.#sendingFragmented = !fin;
  }

  #sendControlFrame(opcode: number, data: Uint8Array | string): void {
    if (this.#closeSent || this.#state !== ConnectionState.Open) {
      throw new InvalidStateError('Cannot send a control frame after the closing handshake started', this.#stateName());
    }
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    if (payload.length > MAX_CONTROL_PAYLOAD_LENGTH) {
      throw new RangeError(`Control frame payload of ${payload.length} bytes exceeds 125`);
    }
    this.#writer.writeFrame(FIN_BIT | opcode, payload);
  }

  #writeClose(payload: Uint8Array): void {
    this.#writer.writeFrame(FIN_BIT | Opcode.Close, payload);
    this.#closeSent = true;
    this.#state = ConnectionState.Closing;
    if (this.#closeReceived !== undefined) this.#afterCloseHandshake();
  }

  /**
   * RFC 6455 §7.1.1: "The underlying TCP connection, in most normal cases, SHOULD be closed
   * first by the server". The server half-closes once a close frame went each way; the client
   * waits for the server's EOF (the I/O layer times that wait out).
   */
  #afterCloseHandshake(): void {
    if (this.side === Side.Server && !this.#eofSent) this.#sendEof();
  }

  #sendEof(): void {
    this.#eofSent = true;
    this.#writer.writeEof();
  }

  // ---- Failing -----------------------------------------------------------------------------

  #fail(code: ProtocolErrorCode, message: string): false {
    return this.#failWith(new ProtocolError(code, message));
  }

  /**
   * RFC 6455 §7.1.7 _Fail the WebSocket Connection_: "the client MUST _Close the WebSocket
   * Connection_, and MAY report the problem to the user"; "the server MUST _Close the WebSocket
   * Connection_, and SHOULD log the problem". A close frame with the error's code goes first
   * when one can still be sent. Nothing more is read afterwards.
   */
  #failWith(error: ProtocolError): false {
    if (this.#protocolError !== undefined || this.#state === ConnectionState.Closed) return false;
    this.#protocolError = error;
    this.#discardInput = true;
    this.#releaseMessage();
    const answerable = this.#deferCloseEcho && this.#events.some(isWholeMessage);
    this.#pushEvent({ type: 'error', error });
    if (!this.#closeSent && error.closeCode !== CloseCode.Abnormal) {
      const payload = encodeClosePayload(error.closeCode);
      // The messages that arrived before the violation were valid: like the reply to a close
      // frame, the failure's close frame waits until the application could answer them.
      if (answerable) {
        this.#closeEchoPending = payload;
        return false;
      }
      this.#writer.writeFrame(FIN_BIT | Opcode.Close, payload);
      this.#closeSent = true;
    }
    this.#endAfterFailure();
    return false;
  }

  /** Once the failure's close frame is out (or none can be sent): nothing but the TCP close remains. */
  #endAfterFailure(): void {
    this.#state = ConnectionState.Closing;
    if (this.side === Side.Server && !this.#eofSent) this.#sendEof();
  }

  #pushEvent(event: ProtocolEvent): void {
    if (this.#events === NO_EVENTS) this.#events = [event];
    else this.#events.push(event);
  }

  /** The incremental validator, for text that is fragmented, split across chunks or decoded by an extension. */
  #updateUtf8(data: Buffer, messageEnd: boolean): boolean {
    const utf8 = (this.#utf8 ??= new Utf8Validator());
    return utf8.update(data) && (!messageEnd || utf8.finish());
  }

  #releaseMessage(): void {
    this.#decodeSuspended = undefined;
    this.#heldChunks = undefined;
    this.#suspended = false;
    this.#assembler?.clear();
    this.#messageInProgress = false;
    this.#controlPayload = undefined;
  }

  #stateName(): string {
    return ['connecting', 'open', 'closing', 'closed'][this.#state]!;
  }
}

/** A message the application has whole and may answer: an assembled one, or a stream's last piece. */
function isWholeMessage(event: ProtocolEvent): boolean {
  return event.type === 'message' || (event.type === 'piece' && event.messageEnd);
}

function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !(Number.isSafeInteger(value) || value === Infinity)) {
    throw new RangeError(`The "${name}" option must be a positive integer or Infinity; received ${String(value)}`);
  }
  return value;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
