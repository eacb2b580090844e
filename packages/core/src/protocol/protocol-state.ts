import type { Buffer } from 'node:buffer';
import type { Extension } from '../extensions/extension.js';
import { FrameDecoder } from '../frames/frame-decoder.js';
import type { Utf8Validator } from '../utf8/utf8-validator.js';
import type { ClosingHandshake } from './closing-handshake.js';
import { Side } from './connection-state.js';
import { FrameWriter } from './frame-writer.js';
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_PENDING_PONGS } from './limits.js';
import type { MessageAssembler } from './message-assembler.js';
import type { ProtocolEvent } from './protocol-event.js';
import { extensionRsvBits, positiveLimit, ReceiveMode, type ProtocolOptions } from './protocol-options.js';

/** The events of a connection with none waiting: shared, never written to. */
export const NO_EVENTS: readonly ProtocolEvent[] = Object.freeze([]);
const NO_EXTENSIONS: readonly Extension[] = Object.freeze([]);

/** The piece whose decoding an extension left at its budget: whether it ends its frame and message. */
export interface SuspendedDecode {
  readonly frameComplete: boolean;
  readonly messageEnd: boolean;
}

/** A message sent in fragments, between its first frame (`fin: false`) and its last. */
export interface FragmentedSend {
  /** The extension transforming the message, chosen on its first frame. */
  readonly extension: Extension | undefined;
}

/**
 * Everything one connection's protocol holds: its settings, the frame and message being
 * received, the work budget, the message being sent in fragments and the events not handed out
 * yet. A `Protocol` owns one; the functions of frame-receiver.ts, message-receiver.ts,
 * message-sender.ts and closing-handshake.ts work on it.
 *
 * It is one object with plain fields, not an object per part, because most connections sit
 * idle most of the time and their count is what a server's memory is spent on. What only some
 * connections need is created when they first need it: the closing handshake's state once the
 * connection starts to end, a fragmented send's while one is under way, the assembler and the
 * incremental UTF-8 validator for the first message that needs them.
 */
export class ProtocolState {
  readonly side: Side;
  readonly decoder = new FrameDecoder();
  readonly writer: FrameWriter;
  readonly receiveMode: ReceiveMode;
  readonly maxFrameSize: number;
  readonly maxMessageSize: number;
  readonly maxPendingPongs: number;
  /** The negotiated extensions, in the order the handshake response listed them. */
  readonly extensions: readonly Extension[];
  /** The RSV bits the negotiated extensions give a meaning to, together. */
  readonly extensionRsvBits: number;
  readonly deferCloseEcho: boolean;
  /** The `workBudget` option: the default budget of a `receiveData` or `continueReceiving` call. */
  readonly workBudget: number;

  /** `NO_EVENTS` (shared, never written to) until the first event after a hand-over. */
  events: ProtocolEvent[] = NO_EVENTS as ProtocolEvent[];
  /** Created when the connection starts to end: a close frame sent or received, a failure, or EOF. */
  closing: ClosingHandshake | undefined;

  // The frame being received.
  frameOpcode = 0;
  frameIsWholeMessage = false;
  controlPayload: Buffer | undefined;
  controlFilled = 0;

  // The message being received. The assembler and the incremental UTF-8 validator are created
  // on first need: most connections never receive a fragmented message, and a text message
  // that arrives whole is validated natively. An idle connection holds neither.
  messageOpcode = 0;
  messageInProgress = false;
  messageExtension: Extension | undefined;
  messageCharge = 0;
  /** Bytes an extension has decoded for the current message: its budget, in either receive mode. */
  messageDecodedLength = 0;
  messageStarted = false;
  assembler: MessageAssembler | undefined;
  utf8: Utf8Validator | undefined;

  /** The message being sent in fragments, if one is. */
  fragmentedSend: FragmentedSend | undefined;

  /** Automatic pongs written since the output last drained. */
  pendingPongs = 0;
  workLeft = Infinity;
  workUsed = 0;
  /** Input received while the processing of earlier input is suspended, in order. */
  heldChunks: Buffer[] | undefined;
  /** Processing stopped at the work budget: `continueReceiving` goes on. */
  suspended = false;
  decodeSuspended: SuspendedDecode | undefined;

  /**
   * Checks the options and fills in the defaults. Throws RangeError for a limit that is not a
   * positive integer or Infinity, naming the option; TypeError for a client without a mask-key
   * source and for two extensions that claim the same RSV bit.
   */
  constructor(side: Side, options: ProtocolOptions, maskKeySource: (() => Uint8Array) | undefined) {
    this.side = side;
    this.writer = new FrameWriter(side === Side.Client ? maskKeySource : undefined);
    if (side === Side.Client && maskKeySource === undefined) {
      throw new TypeError('A client protocol needs a mask-key source');
    }
    this.receiveMode = options.receiveMode ?? ReceiveMode.Message;
    this.maxFrameSize = positiveLimit(options.maxFrameSize, DEFAULT_MAX_FRAME_SIZE, 'maxFrameSize');
    this.maxMessageSize = positiveLimit(options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize');
    this.maxPendingPongs = positiveLimit(options.maxPendingPongs, DEFAULT_MAX_PENDING_PONGS, 'maxPendingPongs');
    this.extensions = options.extensions ?? NO_EXTENSIONS;
    this.extensionRsvBits = extensionRsvBits(this.extensions);
    this.deferCloseEcho = options.deferCloseEcho ?? false;
    this.workBudget = positiveLimit(options.workBudget, Infinity, 'workBudget');
  }

  pushEvent(event: ProtocolEvent): void {
    if (this.events === NO_EVENTS) this.events = [event];
    else this.events.push(event);
  }

  /** Counts work against the budget of the current `receiveData` or `continueReceiving` call. */
  charge(work: number): void {
    this.workLeft -= work;
    this.workUsed += work;
  }

  /** Nothing more will be read: drops the held input and the message and control frame being received. */
  releaseMessage(): void {
    this.decodeSuspended = undefined;
    this.heldChunks = undefined;
    this.suspended = false;
    this.assembler?.clear();
    this.messageInProgress = false;
    this.controlPayload = undefined;
  }
}
