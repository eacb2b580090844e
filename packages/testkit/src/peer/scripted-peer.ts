import { Buffer } from 'node:buffer';
import type { Http2Stream } from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Opcode } from '@ws/core';
import { type ConnectOptions, performClientHandshake } from './client-handshake.js';
import { FrameInbox, type PeerEvent } from './frame-inbox.js';
import type { FrameMatcher } from './frame-matcher.js';
import type { ReceivedFrame } from './frame-reader.js';
import { FrameWriter, type SendFrameOptions, type WriteOptions, closeBody } from './frame-writer.js';
import type { HttpRequestHead, HttpResponseHead } from './http-head.js';
import { type ExpectOptions, PeerExpectations, type ReceivedClose, type ReceivedMessage } from './peer-expectations.js';
import { Transcript, type TranscriptEntry } from './transcript.js';

/** Which end of the connection the scripted peer plays. */
export type PeerRole = 'client' | 'server';

/** Default time an expectation waits, in milliseconds. */
export const DEFAULT_EXPECT_TIMEOUT = 2000;

export interface ScriptedPeerOptions {
  readonly role: PeerRole;
  /**
   * A fixed masking key for every frame sent (unit tests want reproducible bytes; see
   * `RFC_MASK_KEY`, `ZERO_MASK_KEY`). Default: a fresh random key per frame in the client role.
   */
  readonly maskKey?: Uint8Array;
  /** Bytes already read after the opening handshake; they are decoded before the socket's. */
  readonly head?: Uint8Array;
  /** Where to record bytes; pass the one the handshake used so that the transcript is whole. */
  readonly transcript?: Transcript;
  /** Default timeout of expectations, in milliseconds. Default 2000. */
  readonly timeout?: number;
  /** The server's answer to the opening handshake (client role, after `connect`). */
  readonly handshakeResponse?: HttpResponseHead;
  /** The client's opening handshake request (server role, after `accept`). */
  readonly request?: HttpRequestHead;
  /** Decode received bytes as frames. False after a handshake that did not switch protocols. */
  readonly decodeFrames?: boolean;
}

/** HTTP/2 error code CANCEL (RFC 9113 §7). */
const HTTP2_CANCEL = 0x8;

function isHttp2Stream(socket: Duplex): socket is Http2Stream {
  return 'rstCode' in socket && typeof (socket as Partial<Http2Stream>).close === 'function';
}

/** The masking key of RFC 6455 §5.7's examples (37 fa 21 3d). */
export const RFC_MASK_KEY: Uint8Array = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
/** A masking key that leaves the payload readable in a transcript. */
export const ZERO_MASK_KEY: Uint8Array = Uint8Array.of(0, 0, 0, 0);

/**
 * A WebSocket peer driven by a script, at the level of bytes: it sends exactly the frames it is
 * told to (valid or not, whole or chopped), and checks what comes back with expectations that
 * time out and fail with a readable message holding the transcript tail in hex. It never
 * answers anything by itself — no automatic pong, no close echo — so a test sees the other
 * side's behaviour and nothing else.
 *
 * Get one with `ScriptedPeer.connect(url)` (client role), `ScriptedServer.accept()` (server
 * role), or `new ScriptedPeer(stream, { role })` over any Duplex, e.g. an in-memory pair.
 *
 * It wires a stream to three parts: a {@link FrameWriter} that sends, a {@link FrameInbox}
 * that receives, and {@link PeerExpectations} that check what was received; all three record
 * into one {@link Transcript}.
 */
export class ScriptedPeer {
  readonly #socket: Duplex;
  readonly #role: PeerRole;
  readonly #transcript: Transcript;
  readonly #writer: FrameWriter;
  readonly #inbox: FrameInbox;
  readonly #expectations: PeerExpectations;
  #closeFrameSent = false;

  readonly handshakeResponse: HttpResponseHead | undefined;
  readonly request: HttpRequestHead | undefined;

  constructor(socket: Duplex, options: ScriptedPeerOptions) {
    this.#socket = socket;
    this.#role = options.role;
    this.#transcript = options.transcript ?? new Transcript();
    this.#writer = new FrameWriter(socket, this.#transcript, { maskByDefault: options.role === 'client', maskKey: options.maskKey });
    this.#inbox = new FrameInbox(options.decodeFrames ?? true);
    this.#expectations = new PeerExpectations(this.#inbox, this.#transcript, options.timeout ?? DEFAULT_EXPECT_TIMEOUT);
    this.handshakeResponse = options.handshakeResponse;
    this.request = options.request;
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#transcript.received(chunk);
      this.#inbox.receive(chunk);
    });
    socket.on('end', () => {
      this.#transcript.event('end of stream (the other side half-closed or closed)');
      this.#inbox.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#transcript.event(`socket error: ${error.code ?? error.message}`);
      this.#inbox.end();
    });
    socket.on('close', () => {
      this.#transcript.event('connection closed');
      this.#inbox.close();
    });
    if (options.head !== undefined && options.head.length > 0) this.#inbox.receive(Buffer.from(options.head));
    if (socket.destroyed) this.#inbox.close();
    socket.resume();
  }

  /**
   * Opens a TCP (or TLS, for wss://) connection and performs the opening handshake as a
   * client: an HTTP/1.1 upgrade, or with `http2` an extended CONNECT on an HTTP/2 stream. The
   * request is correct unless `headers`, `method`, `httpVersion` or `request` say otherwise.
   */
  static async connect(url: string | URL, options: ConnectOptions = {}): Promise<ScriptedPeer> {
    const timeout = options.timeout ?? DEFAULT_EXPECT_TIMEOUT;
    const { socket, transcript, response, rest, accepted } = await performClientHandshake(url, options, timeout);
    return new ScriptedPeer(socket, {
      role: 'client',
      transcript,
      timeout,
      head: rest,
      handshakeResponse: response,
      decodeFrames: accepted,
      ...(options.maskKey === undefined ? {} : { maskKey: options.maskKey }),
    });
  }

  get role(): PeerRole {
    return this.#role;
  }

  /** The stream underneath, e.g. to check `destroyed`. */
  get socket(): Duplex {
    return this.#socket;
  }

  /** Whether the other side's end of stream (or a reset) was seen. */
  get ended(): boolean {
    return this.#inbox.ended;
  }

  /** Whether the connection is closed in both directions. */
  get closed(): boolean {
    return this.#inbox.closed;
  }

  /** Whether a close frame was sent by `sendClose`, `sendFrame` or `sendFrames` (not by `sendRaw`). */
  get closeFrameSent(): boolean {
    return this.#closeFrameSent;
  }

  /** Frames received and not yet taken by an expectation. */
  get pendingFrames(): number {
    return this.#inbox.pendingFrames;
  }

  /** Every byte sent and received so far, with timestamps and connection events. */
  transcript(): readonly TranscriptEntry[] {
    return this.#transcript.entries();
  }

  /** Adds a line to the transcript, e.g. to mark a step of the script. */
  note(description: string): void {
    this.#transcript.event(description);
  }

  // ---- Sending ----------------------------------------------------------------------------

  /** Encodes and sends one frame, exactly as described, valid or not. */
  sendFrame(options: SendFrameOptions & WriteOptions): Promise<void> {
    if (options.opcode === Opcode.Close) this.#closeFrameSent = true;
    return this.#writer.write(this.encodeFrame(options), options);
  }

  /** Encodes several frames and sends them in one write (or chopped as told). */
  sendFrames(frames: readonly SendFrameOptions[], options: WriteOptions = {}): Promise<void> {
    if (frames.some((frame) => frame.opcode === Opcode.Close)) this.#closeFrameSent = true;
    return this.#writer.write(Buffer.concat(frames.map((frame) => this.encodeFrame(frame))), options);
  }

  /** The bytes `sendFrame` would send, for tests that compose frames before sending them. */
  encodeFrame(options: SendFrameOptions): Buffer {
    return this.#writer.encode(options);
  }

  /** Sends bytes as they are: anything, including half a frame or garbage. */
  sendRaw(bytes: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
    return this.#writer.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes), options);
  }

  sendText(text: string | Uint8Array, options: { readonly fin?: boolean } & WriteOptions = {}): Promise<void> {
    return this.sendFrame({ ...options, opcode: Opcode.Text, payload: text });
  }

  sendBinary(data: Uint8Array | string, options: { readonly fin?: boolean } & WriteOptions = {}): Promise<void> {
    return this.sendFrame({ ...options, opcode: Opcode.Binary, payload: data });
  }

  sendPing(payload: Uint8Array | string = Buffer.alloc(0), options: WriteOptions = {}): Promise<void> {
    return this.sendFrame({ ...options, opcode: Opcode.Ping, payload });
  }

  sendPong(payload: Uint8Array | string = Buffer.alloc(0), options: WriteOptions = {}): Promise<void> {
    return this.sendFrame({ ...options, opcode: Opcode.Pong, payload });
  }

  /**
   * Sends a close frame. Without a code the body is empty. Any code 0-65535 and any reason
   * can be sent, invalid ones included: that is what close-handling tests need.
   */
  sendClose(code?: number, reason: string | Uint8Array = '', options: WriteOptions = {}): Promise<void> {
    return this.sendFrame({ ...options, opcode: Opcode.Close, payload: closeBody(code, reason) });
  }

  /** Ends our direction of the TCP connection (FIN) and keeps reading. */
  halfClose(): Promise<void> {
    return this.#writer.enqueue(
      () =>
        new Promise<void>((resolve) => {
          if (this.#socket.writableEnded || this.#socket.destroyed) return resolve();
          this.#transcript.event('half-close (end of our stream)');
          this.#socket.end(resolve);
        }),
    );
  }

  /**
   * Drops the connection at once: a TCP RST where the socket supports it; on an HTTP/2 stream a
   * RST_STREAM with CANCEL, RFC 8441 §5's way to abort a WebSocket's stream.
   */
  reset(): void {
    this.#transcript.event('reset');
    const socket = this.#socket;
    if (socket instanceof net.Socket && typeof socket.resetAndDestroy === 'function' && !socket.destroyed) {
      socket.resetAndDestroy();
    } else if (isHttp2Stream(socket)) {
      if (!socket.closed) socket.close(HTTP2_CANCEL);
      socket.destroy();
    } else {
      socket.destroy();
    }
  }

  /**
   * Tears the connection down without a WebSocket close frame: half-closes, waits up to
   * `grace` ms for the other side to finish, then destroys. Always safe to call.
   */
  async close(grace = 200): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (!socket.writableEnded) {
      this.#transcript.event('closing the connection');
      socket.end();
    }
    if (!this.#inbox.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, grace);
        function finish() {
          clearTimeout(timer);
          socket.off('close', finish);
          resolve();
        }
        socket.once('close', finish);
      });
    }
    socket.destroy();
  }

  // ---- Expecting --------------------------------------------------------------------------

  /** The next frame, the end of the stream, a decoding failure or a timeout. Never throws. */
  nextEvent(options: ExpectOptions = {}): Promise<PeerEvent> {
    return this.#expectations.nextEvent(options);
  }

  /** The next frame, whatever it is; undefined at the end of the stream. */
  nextFrame(options: ExpectOptions = {}): Promise<ReceivedFrame | undefined> {
    return this.#expectations.nextFrame(options);
  }

  /** The next frame, which must match. */
  expectFrame(matcher: FrameMatcher, options: ExpectOptions = {}): Promise<ReceivedFrame> {
    return this.#expectations.expectFrame(matcher, options);
  }

  /**
   * The next message: a text message equal to `expected` when it is a string, a binary one
   * equal to it when it is bytes, any message when undefined. Fragmented messages are
   * reassembled; any other frame in between fails the expectation.
   */
  expectMessage(expected?: string | Uint8Array, options: ExpectOptions = {}): Promise<ReceivedMessage> {
    return this.#expectations.expectMessage(expected, options);
  }

  /** The next frame must be a ping (with this payload, when given). */
  expectPing(payload?: string | Uint8Array, options: ExpectOptions = {}): Promise<ReceivedFrame> {
    return this.expectFrame({ opcode: Opcode.Ping, ...(payload === undefined ? {} : { payload }) }, options);
  }

  /** The next frame must be a pong (with this payload, when given). */
  expectPong(payload?: string | Uint8Array, options: ExpectOptions = {}): Promise<ReceivedFrame> {
    return this.expectFrame({ opcode: Opcode.Pong, ...(payload === undefined ? {} : { payload }) }, options);
  }

  /**
   * The next frame must be a well-formed close frame, with this code or one of these codes
   * when given (1005 stands for "no status code": an empty body).
   */
  expectClose(code?: number | readonly number[], options: ExpectOptions = {}): Promise<ReceivedClose> {
    return this.#expectations.expectClose(code, options);
  }

  /** No frame may arrive for `ms` milliseconds (the end of the stream is allowed). */
  expectNoFrame(ms: number): Promise<void> {
    return this.#expectations.expectNoFrame(ms);
  }

  /** The other side must end the stream (FIN or close) before sending any other frame. */
  expectEof(options: ExpectOptions = {}): Promise<void> {
    return this.#expectations.expectEof(options);
  }
}
