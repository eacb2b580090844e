import { Buffer } from 'node:buffer';
import net from 'node:net';
import { type ExtensionOffer, HandshakeError, buildAcceptResponse, buildRejectResponse, validateUpgradeRequest } from '@ws/core';
import { ExpectationError } from './expectation-error.js';
import { type HttpRequestHead, parseRequestHead, readHttpHead } from './http-head.js';
import { listen } from './listen.js';
import { PendingQueue } from './pending-queue.js';
import { DEFAULT_EXPECT_TIMEOUT, ScriptedPeer } from './scripted-peer.js';
import { Transcript } from './transcript.js';

export interface ListenOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default timeout of `accept` and of the accepted peers' expectations, in ms. Default 2000. */
  readonly timeout?: number;
  /** A fixed masking key, for peers that are told to mask (servers do not by default). */
  readonly maskKey?: Uint8Array;
}

/**
 * How to answer the opening handshake: 'valid' checks the request (RFC 6455 §4.2.1) and
 * answers 101 — or the error status when the request is invalid, and then `accept` rejects;
 * a function returns the raw response to write, right or wrong on purpose ('' writes nothing).
 */
export type HandshakeAnswer = 'valid' | ((request: HttpRequestHead) => string | Uint8Array);

export interface AcceptOptions {
  readonly handshake?: HandshakeAnswer;
  /** With 'valid': the subprotocol to select, written as given. */
  readonly protocol?: string;
  /**
   * With 'valid': the `Sec-WebSocket-Extensions` value to answer with, or a function of the
   * extensions the client offered that returns it (undefined: none accepted).
   */
  readonly extensions?: string | ((offers: readonly ExtensionOffer[]) => string | undefined);
  /** Milliseconds to wait for a connection and its request. Default: the server's timeout. */
  readonly timeout?: number;
}

/** A connection whose opening handshake request has been read and not answered yet. */
export class PendingUpgrade {
  readonly request: HttpRequestHead;
  readonly socket: net.Socket;
  readonly #transcript: Transcript;
  readonly #rest: Buffer;
  readonly #timeout: number;
  readonly #maskKey: Uint8Array | undefined;

  constructor(
    socket: net.Socket,
    request: HttpRequestHead,
    transcript: Transcript,
    rest: Buffer,
    options: { timeout: number; maskKey: Uint8Array | undefined },
  ) {
    this.socket = socket;
    this.request = request;
    this.#transcript = transcript;
    this.#rest = rest;
    this.#timeout = options.timeout;
    this.#maskKey = options.maskKey;
  }

  /** The request path and query, e.g. "/runCase?case=3&agent=ws". */
  get target(): string {
    return this.request.target;
  }

  /** Answers the handshake and hands the connection to a scripted peer in the server role. */
  async answer(options: Omit<AcceptOptions, 'timeout'> = {}): Promise<ScriptedPeer> {
    const handshake = options.handshake ?? 'valid';
    let response: string | Uint8Array;
    if (handshake === 'valid') {
      try {
        const { key, extensions: offers } = validateUpgradeRequest({
          method: this.request.method,
          httpVersion: this.request.httpVersion,
          headers: this.request.headers,
        });
        const extensions = typeof options.extensions === 'function' ? options.extensions(offers) : options.extensions;
        response = buildAcceptResponse({ key, protocol: options.protocol, extensions });
      } catch (error) {
        if (!(error instanceof HandshakeError)) throw error;
        this.#write(buildRejectResponse({ status: error.status, headers: error.headers }));
        this.socket.end();
        throw new ExpectationError(
          `The client's opening handshake is invalid: ${error.message}`,
          'a valid opening handshake request',
          `${this.request.method} ${this.request.target} HTTP/${this.request.httpVersion}`,
          this.#transcript.entries(),
        );
      }
    } else {
      response = handshake(this.request);
    }
    this.#write(response);
    return new ScriptedPeer(this.socket, {
      role: 'server',
      transcript: this.#transcript,
      timeout: this.#timeout,
      head: this.#rest,
      request: this.request,
      ...(this.#maskKey === undefined ? {} : { maskKey: this.#maskKey }),
    });
  }

  /** Refuses the upgrade with an HTTP error status and closes the connection. */
  reject(status: number, headers: Readonly<Record<string, string>> = {}, body?: string): void {
    this.#write(buildRejectResponse({ status, headers, body }));
    this.socket.end();
  }

  /** Drops the connection without answering. */
  destroy(): void {
    this.#transcript.event('connection dropped without an answer');
    this.socket.destroy();
  }

  #write(response: string | Uint8Array): void {
    const bytes = typeof response === 'string' ? Buffer.from(response, 'utf8') : Buffer.from(response);
    if (bytes.length === 0 || this.socket.destroyed) return;
    this.#transcript.sent(bytes);
    this.socket.write(bytes);
  }
}

/**
 * A scripted WebSocket server for testing clients: it listens, reads each connection's opening
 * handshake request, and answers it as told — correctly, or wrongly on purpose — then the
 * script drives the connection as a {@link ScriptedPeer} in the server role.
 *
 *     const server = await ScriptedServer.listen();
 *     const connecting = myClient.connect(server.url);
 *     const peer = await server.accept();
 *     await peer.sendText('hi');
 */
export class ScriptedServer {
  readonly #server: net.Server;
  readonly #timeout: number;
  readonly #maskKey: Uint8Array | undefined;
  readonly #sockets = new Set<net.Socket>();
  readonly #pending = new PendingQueue<PendingUpgrade>();
  #host = '127.0.0.1';

  private constructor(options: ListenOptions) {
    this.#timeout = options.timeout ?? DEFAULT_EXPECT_TIMEOUT;
    this.#maskKey = options.maskKey;
    // allowHalfOpen: a client's FIN must not end our side; the script decides when it does.
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#onConnection(socket));
  }

  static async listen(options: ListenOptions = {}): Promise<ScriptedServer> {
    const server = new ScriptedServer(options);
    await server.#listen(options.host ?? '127.0.0.1', options.port ?? 0);
    return server;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** ws://host:port, without a path. */
  get url(): string {
    const host = net.isIPv6(this.#host) ? `[${this.#host}]` : this.#host;
    return `ws://${host}:${this.port}`;
  }

  /**
   * The next connection whose handshake request arrived, not answered yet. Rejects after
   * `timeout` ms (default: the server's timeout; Infinity waits until `close()`).
   */
  nextUpgrade(options: { readonly timeout?: number } = {}): Promise<PendingUpgrade> {
    const timeout = options.timeout ?? this.#timeout;
    return this.#pending.next(timeout, () => new Error(`No client connected to ${this.url} within ${timeout} ms`));
  }

  /** Waits for the next client and answers its handshake. */
  async accept(options: AcceptOptions = {}): Promise<ScriptedPeer> {
    const upgrade = await this.nextUpgrade(options.timeout === undefined ? {} : { timeout: options.timeout });
    return upgrade.answer(options);
  }

  /** Drops connections that arrived and were not taken by `accept`/`nextUpgrade`. */
  discardPending(): void {
    this.#pending.discard();
  }

  /** Stops listening and destroys every connection it accepted. */
  close(): Promise<void> {
    this.#pending.close();
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #listen(host: string, port: number): Promise<void> {
    this.#host = host;
    return listen(this.#server, host, port);
  }


  async #onConnection(socket: net.Socket): Promise<void> {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    // A client that misbehaves during the handshake must not crash the test process.
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    const transcript = new Transcript();
    transcript.event(`connection from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
    let upgrade: PendingUpgrade;
    try {
      const { head, rest } = await readHttpHead(socket, transcript, this.#timeout * 5);
      upgrade = new PendingUpgrade(socket, parseRequestHead(head), transcript, rest, {
        timeout: this.#timeout,
        maskKey: this.#maskKey,
      });
    } catch {
      socket.destroy();
      return;
    }
    this.#pending.push(upgrade);
  }
}
