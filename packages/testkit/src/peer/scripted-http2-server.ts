import http2, { type Http2SecureServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type SecureServerOptions, type ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import { type ExtendedConnectAcceptOptions, PendingExtendedConnect } from './pending-extended-connect.js';
import { PendingQueue } from './pending-queue.js';
import { DEFAULT_EXPECT_TIMEOUT, type ScriptedPeer } from './scripted-peer.js';
import type { ListenOptions } from './scripted-server.js';
import { Transcript } from './transcript.js';
import { listen } from './listen.js';

export interface Http2ListenOptions extends ListenOptions {
  /**
   * Serve h2 over TLS with these options of `http2.createSecureServer` (`key` and `cert` at
   * least; ALPN offers h2 only). Without them it serves h2c, HTTP/2 with prior knowledge.
   */
  readonly tls?: SecureServerOptions;
}

/**
 * A scripted WebSocket server for testing clients over HTTP/2 (RFC 8441): it serves h2c (or h2
 * over TLS), announces `SETTINGS_ENABLE_CONNECT_PROTOCOL`, and hands each request stream — an
 * extended CONNECT with `:protocol: websocket`, or whatever the client sent — to the script,
 * which answers it and drives the stream as a {@link ScriptedPeer} in the server role. The
 * scripted counterpart of {@link ScriptedServer}, with the same calls.
 *
 *     const server = await ScriptedHttp2Server.listen();
 *     const connecting = connect(server.url, { http2: true });
 *     const peer = await server.accept();
 */
export class ScriptedHttp2Server {
  readonly #server: Http2Server | Http2SecureServer;
  readonly #secure: boolean;
  readonly #timeout: number;
  readonly #maskKey: Uint8Array | undefined;
  readonly #sessions = new Set<Http2Session>();
  readonly #pending = new PendingQueue<PendingExtendedConnect>();
  #host = '127.0.0.1';

  private constructor(options: Http2ListenOptions) {
    this.#timeout = options.timeout ?? DEFAULT_EXPECT_TIMEOUT;
    this.#maskKey = options.maskKey;
    this.#secure = options.tls !== undefined;
    // RFC 8441 §3: "Upon receipt of SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1, a client
    // MAY use the Extended CONNECT as defined in this document when creating new streams."
    const settings = { enableConnectProtocol: true };
    this.#server = options.tls === undefined ? http2.createServer({ settings }) : http2.createSecureServer({ ...options.tls, settings });
    this.#server.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.on('error', () => undefined);
      session.once('close', () => this.#sessions.delete(session));
    });
    this.#server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onStream(stream, headers));
  }

  static async listen(options: Http2ListenOptions = {}): Promise<ScriptedHttp2Server> {
    const server = new ScriptedHttp2Server(options);
    await server.#listen(options.host ?? '127.0.0.1', options.port ?? 0);
    return server;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** ws://host:port (h2c) or wss://host:port (h2 over TLS), without a path. */
  get url(): string {
    const host = net.isIPv6(this.#host) ? `[${this.#host}]` : this.#host;
    return `${this.#secure ? 'wss' : 'ws'}://${host}:${this.port}`;
  }

  /** The next stream whose request arrived, not answered yet (see `ScriptedServer.nextUpgrade`). */
  nextUpgrade(options: { readonly timeout?: number } = {}): Promise<PendingExtendedConnect> {
    const timeout = options.timeout ?? this.#timeout;
    return this.#pending.next(timeout, () => new Error(`No client opened a stream on ${this.url} within ${timeout} ms`));
  }

  /** Waits for the next extended CONNECT and answers it. */
  async accept(options: ExtendedConnectAcceptOptions & { readonly timeout?: number } = {}): Promise<ScriptedPeer> {
    const pending = await this.nextUpgrade(options.timeout === undefined ? {} : { timeout: options.timeout });
    return pending.answer(options);
  }

  /** Resets the streams that arrived and were not taken by `accept`/`nextUpgrade`. */
  discardPending(): void {
    this.#pending.discard();
  }

  /** Stops listening and destroys every session it accepted. */
  close(): Promise<void> {
    this.#pending.close();
    for (const session of this.#sessions) session.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #listen(host: string, port: number): Promise<void> {
    this.#host = host;
    return listen(this.#server, host, port);
  }


  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A client that misbehaves must not crash the test process.
    stream.on('error', () => undefined);
    const transcript = new Transcript();
    const socket = stream.session?.socket;
    transcript.event(`HTTP/2 stream ${stream.id} from ${socket?.remoteAddress ?? '?'}:${socket?.remotePort ?? '?'}`);
    const fields = Object.entries(headers).map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
    transcript.event(`HTTP/2 request: ${fields.join(', ')}`);
    stream.on('aborted', () => transcript.event('stream aborted (RST_STREAM or session gone)'));
    stream.once('close', () => {
      if (stream.rstCode !== undefined && stream.rstCode !== 0) transcript.event(`stream closed with error code ${stream.rstCode}`);
    });
    this.#pending.push(new PendingExtendedConnect(stream, headers, transcript, { timeout: this.#timeout, maskKey: this.#maskKey }));
  }
}
