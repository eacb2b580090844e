import { Buffer } from 'node:buffer';
import { Opcode, parseClosePayload } from '@ws/core';
import { ExpectationError } from './expectation-error.js';
import type { FrameInbox, PeerEvent } from './frame-inbox.js';
import { type FrameMatcher, describeMatcher, matchesFrame } from './frame-matcher.js';
import { type ReceivedFrame, describeFrame, describePayload } from './frame-reader.js';
import type { Transcript } from './transcript.js';

export interface ExpectOptions {
  /** Milliseconds to wait. Default: the peer's timeout. */
  readonly timeout?: number;
}

/** A whole message, reassembled from its frames. */
export interface ReceivedMessage {
  readonly binary: boolean;
  readonly data: Buffer;
  /** The frames it came in, in order. */
  readonly frames: readonly ReceivedFrame[];
}

/** A close frame's content; code 1005 stands for a close frame without a body. */
export interface ReceivedClose {
  readonly code: number;
  readonly reason: string;
  readonly frame: ReceivedFrame;
}

/**
 * The checks a scripted peer makes on what it receives: each takes the next event from the
 * inbox and, when it is not what was expected, fails with an {@link ExpectationError} that
 * says what was expected, what came instead, and holds the transcript.
 */
export class PeerExpectations {
  readonly #inbox: FrameInbox;
  readonly #transcript: Transcript;
  readonly #timeout: number;

  /** `timeout` is the default wait of every expectation, in milliseconds. */
  constructor(inbox: FrameInbox, transcript: Transcript, timeout: number) {
    this.#inbox = inbox;
    this.#transcript = transcript;
    this.#timeout = timeout;
  }

  nextEvent(options: ExpectOptions): Promise<PeerEvent> {
    return this.#inbox.next(options.timeout ?? this.#timeout);
  }

  async nextFrame(options: ExpectOptions): Promise<ReceivedFrame | undefined> {
    const event = await this.nextEvent(options);
    if (event.type === 'frame') return event.frame;
    if (event.type === 'eof') return undefined;
    throw this.#failure('a frame', this.#describeEvent(event, options));
  }

  async expectFrame(matcher: FrameMatcher, options: ExpectOptions): Promise<ReceivedFrame> {
    const event = await this.nextEvent(options);
    const expected = describeMatcher(matcher);
    if (event.type !== 'frame') throw this.#failure(expected, this.#describeEvent(event, options));
    if (!matchesFrame(event.frame, matcher)) throw this.#failure(expected, describeFrame(event.frame));
    return event.frame;
  }

  async expectMessage(expected: string | Uint8Array | undefined, options: ExpectOptions): Promise<ReceivedMessage> {
    const wanted =
      expected === undefined
        ? 'a message'
        : typeof expected === 'string'
          ? `a text message ${describePayload(Buffer.from(expected))}`
          : `a binary message ${describePayload(expected)}`;
    const first = await this.nextEvent(options);
    if (first.type !== 'frame') throw this.#failure(wanted, this.#describeEvent(first, options));
    if (first.frame.opcode !== Opcode.Text && first.frame.opcode !== Opcode.Binary) {
      throw this.#failure(wanted, describeFrame(first.frame));
    }
    const frames = [first.frame];
    while (!frames[frames.length - 1]!.fin) {
      const next = await this.nextEvent(options);
      if (next.type !== 'frame') throw this.#failure(`${wanted} (continuation)`, this.#describeEvent(next, options));
      if (next.frame.opcode !== Opcode.Continuation) {
        throw this.#failure(`${wanted} (continuation)`, describeFrame(next.frame));
      }
      frames.push(next.frame);
    }
    const message: ReceivedMessage = {
      binary: first.frame.opcode === Opcode.Binary,
      data: Buffer.concat(frames.map((frame) => frame.payload)),
      frames,
    };
    if (expected !== undefined) {
      const expectedBytes = typeof expected === 'string' ? Buffer.from(expected) : Buffer.from(expected);
      if (message.binary !== (typeof expected !== 'string') || !message.data.equals(expectedBytes)) {
        throw this.#failure(wanted, `a ${message.binary ? 'binary' : 'text'} message ${describePayload(message.data)}`);
      }
    }
    return message;
  }

  async expectClose(code: number | readonly number[] | undefined, options: ExpectOptions): Promise<ReceivedClose> {
    const codes = code === undefined ? undefined : typeof code === 'number' ? [code] : code;
    const wanted = codes === undefined ? 'a close frame' : `a close frame with code ${codes.join(' or ')}`;
    const event = await this.nextEvent(options);
    if (event.type !== 'frame') throw this.#failure(wanted, this.#describeEvent(event, options));
    const frame = event.frame;
    if (frame.opcode !== Opcode.Close) throw this.#failure(wanted, describeFrame(frame));
    const parsed = parseClosePayload(frame.payload);
    if (parsed instanceof Error) throw this.#failure(wanted, `${describeFrame(frame)} — ${parsed.message}`);
    if (codes !== undefined && !codes.includes(parsed.code)) {
      throw this.#failure(wanted, `a close frame with code ${parsed.code} ${JSON.stringify(parsed.reason)}`);
    }
    return { code: parsed.code, reason: parsed.reason, frame };
  }

  async expectNoFrame(ms: number): Promise<void> {
    const event = await this.nextEvent({ timeout: ms });
    if (event.type === 'frame') throw this.#failure(`no frame for ${ms} ms`, describeFrame(event.frame));
    if (event.type === 'malformed') throw this.#failure(`no frame for ${ms} ms`, `undecodable bytes: ${event.description}`);
  }

  async expectEof(options: ExpectOptions): Promise<void> {
    const event = await this.nextEvent(options);
    if (event.type === 'eof') return;
    throw this.#failure('the end of the stream', event.type === 'frame' ? describeFrame(event.frame) : this.#describeEvent(event, options));
  }

  #describeEvent(event: PeerEvent, options: ExpectOptions): string {
    switch (event.type) {
      case 'frame':
        return describeFrame(event.frame);
      case 'eof':
        return 'the end of the stream';
      case 'malformed':
        return `undecodable bytes: ${event.description}`;
      case 'timeout':
        return `nothing within ${options.timeout ?? this.#timeout} ms${this.#inbox.inFrame ? ' (a frame is partly received)' : ''}`;
    }
  }

  #failure(expected: string, actual: string): ExpectationError {
    return new ExpectationError(`Expected ${expected}, got ${actual}`, expected, actual, this.#transcript.entries());
  }
}
