import { Buffer } from 'node:buffer';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import {
  Opcode,
  generateKey,
  parseClosePayload,
  parseExtensionOffers,
  validateExtendedConnectResponse,
  validateUpgradeResponse,
} from '@ws/core';
import { createMaskKeySource, encodeFrame, headerLengthFor } from '@ws/core/wire';
import { ExpectationError } from './expectation-error.js';
import { openExtendedConnect } from './extended-connect.js';
import { FrameReader, describeFrame, describePayload, opcodeName, type ReceivedFrame } from './frame-reader.js';
import { type HttpRequestHead, type HttpResponseHead, parseResponseHead, readHttpHead } from './http-head.js';
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

/** Request header overrides: a string replaces or adds a field, null removes a default one. */
export type RequestHeaders = Readonly<Record<string, string | null>>;

export interface ConnectOptions {
  /** Header fields to add, replace (case-insensitively) or, with null, remove. */
  readonly headers?: RequestHeaders;
  /**
   * 'valid' (default): the response must be a correct 101 (RFC 6455 §4.1), else connect
   * rejects. 'raw': any response is accepted and left in `handshakeResponse` for the test to judge.
   */
  readonly handshake?: 'valid' | 'raw';
  /** Subprotocols to offer in Sec-WebSocket-Protocol. */
  readonly protocols?: readonly string[];
  /** Request method. Default GET. */
  readonly method?: string;
  /** HTTP version in the request line. Default "1.1". */
  readonly httpVersion?: string;
  /** Send these bytes as the whole request head instead of building one. */
  readonly request?: string | Uint8Array;
  /** Milliseconds for TCP connect plus handshake, and the expectations' default. Default 2000. */
  readonly timeout?: number;
  readonly maskKey?: Uint8Array;
  /** Options for tls.connect when the URL is wss:// (or https://). */
  readonly tls?: tls.ConnectionOptions;
  /**
   * Open the WebSocket on an HTTP/2 stream with an extended CONNECT (RFC 8441) instead of an
   * HTTP/1.1 upgrade: h2c with prior knowledge for ws:// and http://, h2 negotiated by ALPN for
   * wss:// and https://. `headers` and `protocols` apply (field names in lower case), `method`
   * replaces CONNECT, `httpVersion` and `request` do not apply. The response is valid when its
   * status is 2xx (RFC 8441 §5); frames then flow on the stream, a session of its own.
   */
  readonly http2?: boolean;
}

export interface SendFrameOptions {
  readonly opcode: number;
  readonly payload?: string | Uint8Array;
  /** Default true. */
  readonly fin?: boolean;
  readonly rsv1?: boolean;
  readonly rsv2?: boolean;
  readonly rsv3?: boolean;
  /**
   * A 4-byte key to mask with, false to send unmasked, true to mask with a fresh key. Default:
   * masked in the client role (RFC 6455 §5.3), unmasked in the server role.
   */
  readonly mask?: Uint8Array | boolean;
  /**
   * How to encode the payload length: the shortest form (default, as RFC 6455 §5.2 requires),
   * or forced into the 16-bit or 64-bit extended form to test a receiver's tolerance.
   */
  readonly length?: 'minimal' | '16' | '64';
}

export interface WriteOptions {
  /** Write in pieces of this many bytes (1 sends byte by byte), each its own TCP segment. */
  readonly chop?: number;
  /** Milliseconds between pieces when chopping. Default 1; 0 waits only for each write. */
  readonly delay?: number;
}

export interface ExpectOptions {
  /** Milliseconds to wait. Default: the peer's timeout. */
  readonly timeout?: number;
}

/** What a frame must look like; a function decides by itself. */
export type FrameMatcher =
  | {
      readonly opcode?: number;
      readonly fin?: boolean;
      readonly rsv1?: boolean;
      readonly rsv2?: boolean;
      readonly rsv3?: boolean;
      readonly masked?: boolean;
      readonly payload?: string | Uint8Array;
    }
  | ((frame: ReceivedFrame) => boolean);

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

/** What {@link ScriptedPeer.nextEvent} reports; it never throws. */
export type PeerEvent =
  | { readonly type: 'frame'; readonly frame: ReceivedFrame }
  | { readonly type: 'eof' }
  | { readonly type: 'malformed'; readonly description: string }
  | { readonly type: 'timeout' };

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
 */
export class ScriptedPeer {
  readonly #socket: Duplex;
  readonly #role: PeerRole;
  readonly #transcript: Transcript;
  readonly #reader = new FrameReader();
  readonly #decodeFrames: boolean;
  readonly #timeout: number;
  readonly #maskKey: Uint8Array | undefined;
  readonly #maskKeySource = createMaskKeySource();
  readonly #frames: ReceivedFrame[] = [];
  readonly #wakers = new Set<() => void>();
  #ended = false;
  #closed = false;
  #closeFrameSent = false;
  #writes: Promise<void> = Promise.resolve();

  readonly handshakeResponse: HttpResponseHead | undefined;
  readonly request: HttpRequestHead | undefined;

  constructor(socket: Duplex, options: ScriptedPeerOptions) {
    this.#socket = socket;
    this.#role = options.role;
    this.#transcript = options.transcript ?? new Transcript();
    this.#timeout = options.timeout ?? DEFAULT_EXPECT_TIMEOUT;
    this.#maskKey = options.maskKey;
    this.#decodeFrames = options.decodeFrames ?? true;
    this.handshakeResponse = options.handshakeResponse;
    this.request = options.request;
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#transcript.received(chunk);
      this.#receive(chunk);
    });
    socket.on('end', () => {
      this.#transcript.event('end of stream (the other side half-closed or closed)');
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#transcript.event(`socket error: ${error.code ?? error.message}`);
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#transcript.event('connection closed');
      this.#ended = true;
      this.#closed = true;
      this.#wake();
    });
    if (options.head !== undefined && options.head.length > 0) this.#receive(Buffer.from(options.head));
    if (socket.destroyed) {
      this.#ended = true;
      this.#closed = true;
    }
    socket.resume();
  }

  /**
   * Opens a TCP (or TLS, for wss://) connection and performs the opening handshake as a
   * client: an HTTP/1.1 upgrade, or with `http2` an extended CONNECT on an HTTP/2 stream. The
   * request is correct unless `headers`, `method`, `httpVersion` or `request` say otherwise.
   */
  static async connect(url: string | URL, options: ConnectOptions = {}): Promise<ScriptedPeer> {
    const target = new URL(url);
    const secure = target.protocol === 'wss:' || target.protocol === 'https:';
    if (!secure && target.protocol !== 'ws:' && target.protocol !== 'http:') {
      throw new TypeError(`Unsupported URL scheme ${target.protocol} (use ws: or wss:)`);
    }
    const timeout = options.timeout ?? DEFAULT_EXPECT_TIMEOUT;
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(target.port) || (secure ? 443 : 80);
    const transcript = new Transcript();
    const tlsOptions = options.http2 === true ? { ALPNProtocols: ['h2'], ...options.tls } : options.tls;
    const socket = await openSocket(host, port, secure, tlsOptions, timeout);
    transcript.event(`connected to ${host}:${port}${options.http2 === true ? ' (HTTP/2)' : ''}`);
    if (options.http2 === true) return ScriptedPeer.#connectHttp2(target, secure, socket, transcript, timeout, options);
    const key = generateKey();
    const path = `${target.pathname || '/'}${target.search}`;
    const request =
      options.request ??
      buildRequest({
        method: options.method ?? 'GET',
        path,
        httpVersion: options.httpVersion ?? '1.1',
        defaults: [
          ['Host', target.host],
          ['Upgrade', 'websocket'],
          ['Connection', 'Upgrade'],
          ['Sec-WebSocket-Key', key],
          ['Sec-WebSocket-Version', '13'],
          ...(options.protocols !== undefined && options.protocols.length > 0
            ? ([['Sec-WebSocket-Protocol', options.protocols.join(', ')]] as const)
            : []),
        ],
        overrides: options.headers ?? {},
      });
    const requestBytes = typeof request === 'string' ? Buffer.from(request, 'latin1') : Buffer.from(request);
    transcript.sent(requestBytes);
    socket.write(requestBytes);
    let head: string;
    let rest: Buffer;
    try {
      ({ head, rest } = await readHttpHead(socket, transcript, timeout));
    } catch (error) {
      socket.destroy();
      throw new ExpectationError(
        `Opening handshake: ${(error as Error).message}`,
        'an HTTP response',
        'no complete response',
        transcript.entries(),
      );
    }
    const response = parseResponseHead(head);
    if ((options.handshake ?? 'valid') === 'valid') {
      const sentKey = overriddenValue(options.headers, 'sec-websocket-key') ?? key;
      try {
        validateUpgradeResponse(
          { statusCode: response.statusCode, headers: response.headers },
          { key: sentKey, protocols: options.protocols ?? [], offeredExtensions: offeredExtensionNames(options.headers) },
        );
      } catch (error) {
        socket.destroy();
        throw new ExpectationError(
          `Opening handshake rejected: ${(error as Error).message}`,
          'a valid 101 Switching Protocols response',
          head.trim(),
          transcript.entries(),
        );
      }
    }
    return new ScriptedPeer(socket, {
      role: 'client',
      transcript,
      timeout,
      head: rest,
      handshakeResponse: response,
      decodeFrames: response.statusCode === 101,
      ...(options.maskKey === undefined ? {} : { maskKey: options.maskKey }),
    });
  }

  static async #connectHttp2(
    target: URL,
    secure: boolean,
    socket: Duplex,
    transcript: Transcript,
    timeout: number,
    options: ConnectOptions,
  ): Promise<ScriptedPeer> {
    let opened;
    try {
      opened = await openExtendedConnect({
        target,
        secure,
        socket,
        transcript,
        timeout,
        headers: options.headers ?? {},
        protocols: options.protocols ?? [],
        ...(options.method === undefined ? {} : { method: options.method }),
      });
    } catch (error) {
      socket.destroy();
      throw new ExpectationError(
        `Opening handshake (HTTP/2): ${(error as Error).message}`,
        'a response to the extended CONNECT',
        'no response',
        transcript.entries(),
      );
    }
    const { stream, response } = opened;
    const accepted = response.statusCode >= 200 && response.statusCode <= 299;
    if ((options.handshake ?? 'valid') === 'valid') {
      try {
        validateExtendedConnectResponse(response, {
          protocols: options.protocols ?? [],
          offeredExtensions: offeredExtensionNames(options.headers),
        });
      } catch (error) {
        stream.destroy();
        throw new ExpectationError(
          `Opening handshake rejected: ${(error as Error).message}`,
          'a 2xx response to the extended CONNECT',
          `:status ${response.statusCode}`,
          transcript.entries(),
        );
      }
    }
    return new ScriptedPeer(stream, {
      role: 'client',
      transcript,
      timeout,
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
    return this.#ended;
  }

  /** Whether the connection is closed in both directions. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a close frame was sent by `sendClose`, `sendFrame` or `sendFrames` (not by `sendRaw`). */
  get closeFrameSent(): boolean {
    return this.#closeFrameSent;
  }

  /** Frames received and not yet taken by an expectation. */
  get pendingFrames(): number {
    return this.#frames.length;
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
    return this.#write(this.encodeFrame(options), options);
  }

  /** Encodes several frames and sends them in one write (or chopped as told). */
  sendFrames(frames: readonly SendFrameOptions[], options: WriteOptions = {}): Promise<void> {
    if (frames.some((frame) => frame.opcode === Opcode.Close)) this.#closeFrameSent = true;
    return this.#write(Buffer.concat(frames.map((frame) => this.encodeFrame(frame))), options);
  }

  /** The bytes `sendFrame` would send, for tests that compose frames before sending them. */
  encodeFrame(options: SendFrameOptions): Buffer {
    const maskKey = this.#maskFor(options.mask);
    const frame = encodeFrame({
      opcode: options.opcode,
      payload: options.payload ?? Buffer.alloc(0),
      fin: options.fin ?? true,
      rsv1: options.rsv1 ?? false,
      rsv2: options.rsv2 ?? false,
      rsv3: options.rsv3 ?? false,
      ...(maskKey === undefined ? {} : { maskKey }),
    });
    const length = options.length ?? 'minimal';
    if (length === 'minimal') return frame;
    const payloadLength =
      typeof options.payload === 'string' ? Buffer.byteLength(options.payload) : (options.payload?.length ?? 0);
    return withLengthForm(frame, payloadLength, length);
  }

  /** Sends bytes as they are: anything, including half a frame or garbage. */
  sendRaw(bytes: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
    return this.#write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes), options);
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
    return this.#enqueue(
      () =>
        new Promise<void>((resolve) => {
          if (this.#socket.writableEnded || this.#socket.destroyed) return resolve();
          this.#transcript.event('half-close (end of our stream)');
          this.#socket.end(resolve);
        }),
    );
  }

  /** Drops the connection at once, with a TCP RST where the stream supports it. */
  reset(): void {
    this.#transcript.event('reset');
    const socket = this.#socket;
    if (socket instanceof net.Socket && typeof socket.resetAndDestroy === 'function' && !socket.destroyed) {
      socket.resetAndDestroy();
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
    if (!this.#closed) {
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
  async nextEvent(options: ExpectOptions = {}): Promise<PeerEvent> {
    const deadline = performance.now() + (options.timeout ?? this.#timeout);
    for (;;) {
      const frame = this.#frames.shift();
      if (frame !== undefined) return { type: 'frame', frame };
      if (this.#reader.error !== undefined) return { type: 'malformed', description: this.#reader.error };
      if (this.#ended) return { type: 'eof' };
      const remaining = deadline - performance.now();
      if (remaining <= 0) return { type: 'timeout' };
      await this.#changed(remaining);
    }
  }

  /** The next frame, whatever it is; undefined at the end of the stream. */
  async nextFrame(options: ExpectOptions = {}): Promise<ReceivedFrame | undefined> {
    const event = await this.nextEvent(options);
    if (event.type === 'frame') return event.frame;
    if (event.type === 'eof') return undefined;
    throw this.#failure('a frame', this.#describeEvent(event, options));
  }

  /** The next frame, which must match. */
  async expectFrame(matcher: FrameMatcher, options: ExpectOptions = {}): Promise<ReceivedFrame> {
    const event = await this.nextEvent(options);
    const expected = describeMatcher(matcher);
    if (event.type !== 'frame') throw this.#failure(expected, this.#describeEvent(event, options));
    if (!matches(event.frame, matcher)) throw this.#failure(expected, describeFrame(event.frame));
    return event.frame;
  }

  /**
   * The next message: a text message equal to `expected` when it is a string, a binary one
   * equal to it when it is bytes, any message when undefined. Fragmented messages are
   * reassembled; any other frame in between fails the expectation.
   */
  async expectMessage(expected?: string | Uint8Array, options: ExpectOptions = {}): Promise<ReceivedMessage> {
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
  async expectClose(code?: number | readonly number[], options: ExpectOptions = {}): Promise<ReceivedClose> {
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

  /** No frame may arrive for `ms` milliseconds (the end of the stream is allowed). */
  async expectNoFrame(ms: number): Promise<void> {
    const event = await this.nextEvent({ timeout: ms });
    if (event.type === 'frame') throw this.#failure(`no frame for ${ms} ms`, describeFrame(event.frame));
    if (event.type === 'malformed') throw this.#failure(`no frame for ${ms} ms`, `undecodable bytes: ${event.description}`);
  }

  /** The other side must end the stream (FIN or close) before sending any other frame. */
  async expectEof(options: ExpectOptions = {}): Promise<void> {
    const event = await this.nextEvent(options);
    if (event.type === 'eof') return;
    throw this.#failure('the end of the stream', event.type === 'frame' ? describeFrame(event.frame) : this.#describeEvent(event, options));
  }

  // ---- Internals --------------------------------------------------------------------------

  #receive(chunk: Buffer): void {
    if (!this.#decodeFrames) return;
    const frames = this.#reader.push(chunk);
    if (frames.length > 0) this.#frames.push(...frames);
    if (frames.length > 0 || this.#reader.error !== undefined) this.#wake();
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  /** Resolves when something arrives or after `ms`, whichever is first. */
  #changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  #maskFor(mask: Uint8Array | boolean | undefined): Uint8Array | undefined {
    if (mask instanceof Uint8Array) return mask;
    if (mask === false) return undefined;
    if (mask === true || this.#role === 'client') return this.#maskKey ?? Uint8Array.from(this.#maskKeySource());
    return undefined;
  }

  #write(bytes: Buffer, options: WriteOptions): Promise<void> {
    const chop = options.chop ?? bytes.length;
    if (!Number.isInteger(chop) || chop < 1) throw new RangeError(`chop must be a positive integer, got ${chop}`);
    const delay = options.delay ?? 1;
    return this.#enqueue(async () => {
      if (chop >= bytes.length) return this.#writeNow(bytes);
      for (let offset = 0; offset < bytes.length; offset += chop) {
        if (offset > 0 && delay > 0) await sleep(delay);
        await this.#writeNow(bytes.subarray(offset, offset + chop));
      }
    });
  }

  /** Runs writes one after the other, so a chopped send is never interleaved with the next. */
  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(task);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  #writeNow(bytes: Buffer): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) {
      // The other side may legitimately have failed the connection already; the transcript
      // says what was not sent instead of the test crashing on EPIPE.
      this.#transcript.event(`not sent, the connection is closed: ${bytes.length} bytes`);
      return Promise.resolve();
    }
    this.#transcript.sent(bytes);
    return new Promise((resolve) => socket.write(bytes, () => resolve()));
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
        return `nothing within ${options.timeout ?? this.#timeout} ms${this.#reader.inFrame ? ' (a frame is partly received)' : ''}`;
    }
  }

  #failure(expected: string, actual: string): ExpectationError {
    return new ExpectationError(`Expected ${expected}, got ${actual}`, expected, actual, this.#transcript.entries());
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function openSocket(
  host: string,
  port: number,
  secure: boolean,
  tlsOptions: tls.ConnectionOptions | undefined,
  timeout: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the peer decides when its side ends, so half-close can be observed and tested.
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined, ...tlsOptions })
      : net.connect({ host, port, allowHalfOpen: true });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Could not connect to ${host}:${port} within ${timeout} ms`));
    }, timeout);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}

function buildRequest(parts: {
  method: string;
  path: string;
  httpVersion: string;
  defaults: readonly (readonly [string, string])[];
  overrides: RequestHeaders;
}): string {
  const overrides = new Map(Object.entries(parts.overrides).map(([name, value]) => [name.toLowerCase(), { name, value }]));
  const lines: string[] = [];
  for (const [name, value] of parts.defaults) {
    const override = overrides.get(name.toLowerCase());
    overrides.delete(name.toLowerCase());
    if (override === undefined) lines.push(`${name}: ${value}`);
    else if (override.value !== null) lines.push(`${override.name}: ${override.value}`);
  }
  for (const { name, value } of overrides.values()) if (value !== null) lines.push(`${name}: ${value}`);
  return `${parts.method} ${parts.path} HTTP/${parts.httpVersion}\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
}

/**
 * The names of the extensions a `Sec-WebSocket-Extensions` override offers, which the server
 * may then accept (RFC 6455 §4.1: a response may only use extensions "present in the client's
 * handshake"). An override that does not parse offers nothing a server could accept.
 */
function offeredExtensionNames(headers: RequestHeaders | undefined): string[] {
  const value = overriddenValue(headers, 'sec-websocket-extensions');
  if (value === undefined) return [];
  try {
    return parseExtensionOffers(value, 'Sec-WebSocket-Extensions', { markRepeatedParams: true }).map((offer) => offer.name);
  } catch {
    return [];
  }
}

function overriddenValue(headers: RequestHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && value !== null) return value;
  return undefined;
}

/**
 * A close frame body built without validation. The core's encoder refuses codes that must not
 * be sent; a conformance test sends exactly those.
 */
function closeBody(code: number | undefined, reason: string | Uint8Array): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new RangeError(`A close code is 0-65535, got ${code}`);
  const reasonBytes = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : Buffer.from(reason);
  const body = Buffer.alloc(2 + reasonBytes.length);
  body.writeUInt16BE(code, 0);
  reasonBytes.copy(body, 2);
  return body;
}

/** Re-encodes the length of a minimally encoded frame in the 16- or 64-bit extended form. */
function withLengthForm(frame: Buffer, payloadLength: number, form: '16' | '64'): Buffer {
  if (form === '16' && payloadLength > 0xffff) throw new RangeError('A 16-bit length holds at most 65535 bytes');
  const masked = (frame[1]! & 0x80) !== 0;
  // Masking key (if any) and payload follow the minimal header unchanged.
  const rest = frame.subarray(headerLengthFor(payloadLength));
  const lengthBytes = form === '16' ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes);
  header[0] = frame[0]!;
  header[1] = (masked ? 0x80 : 0) | (form === '16' ? 126 : 127);
  if (form === '16') header.writeUInt16BE(payloadLength, 2);
  else header.writeBigUInt64BE(BigInt(payloadLength), 2);
  return Buffer.concat([header, rest]);
}

function matches(frame: ReceivedFrame, matcher: FrameMatcher): boolean {
  if (typeof matcher === 'function') return matcher(frame);
  if (matcher.opcode !== undefined && frame.opcode !== matcher.opcode) return false;
  if (matcher.fin !== undefined && frame.fin !== matcher.fin) return false;
  if (matcher.rsv1 !== undefined && frame.rsv1 !== matcher.rsv1) return false;
  if (matcher.rsv2 !== undefined && frame.rsv2 !== matcher.rsv2) return false;
  if (matcher.rsv3 !== undefined && frame.rsv3 !== matcher.rsv3) return false;
  if (matcher.masked !== undefined && frame.masked !== matcher.masked) return false;
  if (matcher.payload !== undefined) {
    const payload = typeof matcher.payload === 'string' ? Buffer.from(matcher.payload) : Buffer.from(matcher.payload);
    if (!frame.payload.equals(payload)) return false;
  }
  return true;
}

function describeMatcher(matcher: FrameMatcher): string {
  if (typeof matcher === 'function') return `a frame accepted by ${matcher.name || 'the matcher function'}`;
  const parts: string[] = [];
  if (matcher.fin !== undefined) parts.push(matcher.fin ? 'fin' : 'not fin');
  for (const bit of ['rsv1', 'rsv2', 'rsv3', 'masked'] as const) {
    if (matcher[bit] !== undefined) parts.push(matcher[bit] ? bit : `not ${bit}`);
  }
  const payload =
    matcher.payload === undefined
      ? ''
      : `: ${describePayload(typeof matcher.payload === 'string' ? Buffer.from(matcher.payload) : matcher.payload)}`;
  const name = matcher.opcode === undefined ? 'a frame' : `a ${opcodeName(matcher.opcode)} frame`;
  return `${name}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}${payload}`;
}
