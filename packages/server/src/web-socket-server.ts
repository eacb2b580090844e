import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Http2ServerRequest, ServerHttp2Stream } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { encodeClosePayload, HandshakeError, type PerMessageDeflate, ServerProtocol } from '@ws/core';
import { ConnectionError, reportHttp2StreamFailure, type SendData } from '@ws/core/node';
import { BroadcastMessage, type BroadcastOptions, type BroadcastResult, writeToAll } from './broadcast.js';
import { checkTopic } from './check-topic.js';
import { kLeaveTopics, ServerConnection } from './server-connection.js';
import { type PublishOptions, TopicRegistry } from './topic-registry.js';
import { UnupgradedSockets } from './unupgraded-sockets.js';
import { answerUpgradeRequired } from './upgrade/answer-upgrade-required.js';
import type { UpgradeOutcome } from './upgrade/handle-upgrade.js';
import { type AnyHttp2Server, attachExtendedConnectListener, isHttp2Server } from './upgrade/extended-connect-router.js';
import { acceptHandshake, rejectHandshake } from './upgrade/handshake-transport.js';
import { PendingHandshakes } from './upgrade/pending-handshakes.js';
import { attachUpgradeListener } from './upgrade/upgrade-router.js';
import type { WebSocketRequest } from './upgrade/web-socket-request.js';
import { type ResolvedServerOptions, resolveServerOptions, type WebSocketServerOptions } from './web-socket-server-options.js';

/** The events of a {@link WebSocketServer}, for typed `on`/`once`. */
export interface WebSocketServerEvents<Data> {
  /**
   * A handshake completed. Listeners are attached before the first frame is read. `request` is
   * an `IncomingMessage` for an HTTP/1.1 upgrade, an `Http2ServerRequest` (`httpVersion` `'2.0'`)
   * for an extended CONNECT over HTTP/2.
   */
  connection: [connection: ServerConnection<Data>, request: WebSocketRequest];
  /** The server this one created is listening (standalone mode). */
  listening: [];
  /** The server this one created failed (e.g. EADDRINUSE). */
  error: [error: Error];
  /** A handshake was refused; the client got `error.status`. For logging; nothing to do. */
  handshakeError: [error: HandshakeError, request: WebSocketRequest];
  /** `close()` finished: every socket is gone. */
  close: [];
}

export interface CloseServerOptions {
  /** The close code sent to every connection. Default 1001 (going away). */
  readonly code?: number;
  readonly reason?: string;
  /** How long connections get to finish their closing handshake before being destroyed. Default `closeTimeout`. */
  readonly timeout?: number;
}

const ServerState = { Open: 0, Closing: 1, Closed: 2 } as const;
type ServerState = (typeof ServerState)[keyof typeof ServerState];

const EMPTY = Buffer.alloc(0);

function ignoreError(): void {
  // A socket in the handshake may fail at any time (a reset); its 'close' does the cleanup.
}

/**
 * A WebSocket server: standalone (`port`), sharing an HTTP server (`server`, with `path`), or
 * driven by the application through `handleUpgrade` (`noServer`).
 *
 * ```ts
 * const server = new WebSocketServer({ port: 8080 });
 * server.on('connection', (connection) => {
 *   connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
 * });
 * ```
 */
export class WebSocketServer<Data = undefined> extends EventEmitter<WebSocketServerEvents<Data>> {
  readonly #options: ResolvedServerOptions<Data>;

  readonly #ownServer: HttpServer | undefined;
  readonly #sharedServer: HttpServer | HttpsServer | AnyHttp2Server | undefined;
  readonly #detach: (() => void)[] = [];

  readonly #connections = new Set<ServerConnection<Data>>();
  /** The permessage-deflate of each compressed connection, for broadcasts to compress once per settings. */
  readonly #deflateOf = new WeakMap<ServerConnection<Data>, PerMessageDeflate>();
  readonly #handshakes: PendingHandshakes<Data>;
  /** Standalone: sockets connected but whose request head has not arrived (the slowloris guard). */
  readonly #unupgraded: UnupgradedSockets;
  readonly #topics: TopicRegistry<Data>;

  #state: ServerState = ServerState.Open;
  #closing: Promise<void> | undefined;
  #allGone: (() => void) | undefined;

  constructor(options: WebSocketServerOptions<Data>) {
    super();
    this.#options = resolveServerOptions(options);
    this.#unupgraded = new UnupgradedSockets({ timeout: this.#options.handshakeTimeout });
    this.#handshakes = new PendingHandshakes(this.#options.policy, this.#options.handshakeTimeout, () => this.#checkAllGone());
    this.#topics = new TopicRegistry(
      this.#options.connection.fragmentSize,
      (connection) => this.#deflateOf.get(connection),
      this.#options.adapter,
    );
    if (options.port !== undefined) {
      this.#ownServer = this.#listen(options.port, options.host, options.backlog);
    } else if (options.server !== undefined) {
      const server = options.server;
      this.#sharedServer = server;
      // An HTTP/2 server with `allowHTTP1` emits 'upgrade' for its HTTP/1.1 clients too.
      this.#detach.push(attachUpgradeListener(server as HttpServer, options.path, (request, socket, head) => this.handleUpgrade(request, socket, head)));
      if (isHttp2Server(server)) {
        this.#detach.push(
          attachExtendedConnectListener(server, options.path, (stream, request) => this.handleExtendedConnect(stream, request)),
        );
      }
    }
  }

  /** Every open connection. */
  get clients(): ReadonlySet<ServerConnection<Data>> {
    return this.#connections;
  }

  /** The address the HTTP server listens on; null before it listens. Throws in `noServer` mode. */
  address(): AddressInfo | string | null {
    const server = this.#ownServer ?? this.#sharedServer;
    if (server === undefined) throw new TypeError('A noServer WebSocketServer has no address');
    return server.address();
  }

  /**
   * Handles an HTTP upgrade request: validates it, runs the hooks, and answers 101 (then calls
   * `callback`, or emits `'connection'` without one) or an HTTP error, ending the socket. For
   * `noServer` mode: call it from an `'upgrade'` listener; any Duplex is accepted as the socket.
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback?: (connection: ServerConnection<Data>, request: WebSocketRequest) => void,
  ): void {
    this.#handshake(request, socket, head, callback);
  }

  /**
   * Handles an extended CONNECT with `:protocol: websocket` on an HTTP/2 stream (RFC 8441):
   * the same checks and hooks as an upgrade, then `:status 200` and a connection running on the
   * stream (or an HTTP error on the stream; the session goes on). For `noServer` mode with an
   * HTTP/2 server: call it from a `'stream'` listener for the streams whose headers have
   * `:method CONNECT` and `:protocol websocket`, with the request made by `new
   * Http2ServerRequest(stream, headers, {}, rawHeaders)`; the HTTP/2 server must have been
   * created with `settings: { enableConnectProtocol: true }`.
   */
  handleExtendedConnect(
    stream: ServerHttp2Stream,
    request: Http2ServerRequest,
    callback?: (connection: ServerConnection<Data>, request: WebSocketRequest) => void,
  ): void {
    this.#handshake(request, stream, EMPTY, callback);
  }

  #handshake(
    request: WebSocketRequest,
    socket: Duplex,
    head: Buffer,
    callback: ((connection: ServerConnection<Data>, request: WebSocketRequest) => void) | undefined,
  ): void {
    socket.on('error', ignoreError);
    if (this.#state !== ServerState.Open) {
      this.#refuse(
        request,
        socket,
        new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', 'The server is shutting down', { status: 503 }),
      );
      return;
    }
    this.#handshakes.negotiate(request, socket, {
      settle: (outcome) => this.#settle(request, socket, head, outcome, callback),
      refuse: (error) => this.#refuse(request, socket, error),
    });
  }

  /** Answers a decided handshake: the 101 and a connection, or the refusal. */
  #settle(
    request: WebSocketRequest,
    socket: Duplex,
    head: Buffer,
    outcome: UpgradeOutcome<Data>,
    callback: ((connection: ServerConnection<Data>, request: WebSocketRequest) => void) | undefined,
  ): void {
    if (!outcome.accepted) {
      this.#emitHandshakeError(outcome.error, request);
      rejectHandshake(socket, outcome.rejection);
      return;
    }
    this.#accept(request, socket, head, outcome, callback);
  }

  /**
   * Sends one message to every open connection (or those `filter` accepts, minus `except`). The
   * message is framed once and the same bytes are written to every socket. With
   * permessage-deflate, it is compressed once for all the recipients that compress without
   * context takeover with the same settings (the server default), and written to them as the
   * same compressed frames; a recipient whose side keeps its context gets its own compression
   * (its peer's window must hold exactly what its own deflater sent). Each recipient's
   * backpressure policy applies; the result counts what became of the message per recipient.
   */
  broadcast(data: SendData, options: BroadcastOptions<Data> = {}): BroadcastResult {
    if (this.#connections.size === 0) return { sent: 0, queued: 0, dropped: 0, closed: 0 };
    const message = new BroadcastMessage(data, { binary: options.binary, fragmentSize: this.#options.connection.fragmentSize });
    const { except, filter } = options;
    const excluded =
      except === undefined ? undefined : except instanceof ServerConnection ? new Set([except]) : new Set(except);
    const compress = options.compress !== false;
    return writeToAll(
      this.#connections,
      (connection) => message.sendTo(connection, compress ? this.#deflateOf.get(connection) : undefined),
      (connection) => excluded?.has(connection) !== true && (filter === undefined || filter(connection)),
    );
  }

  /**
   * Sends one message to every connection subscribed to `topic` (see `ServerConnection.subscribe`),
   * minus `except`. Framed, and compressed per set of deflate settings, once for all of them, as
   * `broadcast` does; the result counts what became of the message per local subscriber. With an
   * `adapter`, the message then goes to the subscribers of the other processes too.
   */
  publish(topic: string, data: SendData, options: PublishOptions<Data> = {}): BroadcastResult {
    checkTopic(topic);
    return this.#topics.publish(topic, data, options);
  }

  /** How many connections of this server are subscribed to `topic`. */
  subscribers(topic: string): number {
    checkTopic(topic);
    return this.#topics.count(topic);
  }

  /**
   * Shuts down: stops accepting (handshakes in progress get 503), closes every connection with
   * `code` (a closing handshake each), destroys the ones still open after `timeout`, closes the
   * HTTP server it created, and resolves when every socket is gone. Calling it again returns
   * the same promise.
   */
  close(options: CloseServerOptions = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const code = options.code ?? 1001;
    const reason = options.reason ?? '';
    encodeClosePayload(code, reason);
    const timeout = options.timeout ?? this.#options.connection.closeTimeout;
    this.#state = ServerState.Closing;
    for (const detach of this.#detach.splice(0)) detach();
    // First: the connections' closes below then leave their topics without telling the adapter.
    const adapterClosed = this.#topics.closeAdapter().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );

    const serverClosed = new Promise<void>((resolve) => {
      if (this.#ownServer === undefined || !this.#ownServer.listening) {
        resolve();
        return;
      }
      this.#ownServer.close(() => resolve());
    });
    this.#unupgraded.destroyAll();
    const shutdown = new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', 'The server is shutting down', { status: 503 });
    this.#handshakes.abortAll(shutdown);

    const allGone = new Promise<void>((resolve) => {
      this.#allGone = resolve;
    });
    for (const connection of this.#connections) void connection.close(code, reason);
    const stragglers = setTimeout(() => {
      for (const connection of this.#connections) {
        connection.fail(
          new ConnectionError('WS_ERR_SHUTDOWN_TIMEOUT', `The closing handshake did not finish within ${timeout} ms`),
        );
      }
    }, timeout);
    this.#checkAllGone();

    this.#closing = Promise.all([allGone, serverClosed, adapterClosed]).then(([, , adapterFailure]) => {
      clearTimeout(stragglers);
      this.#options.heartbeat?.stop();
      this.#state = ServerState.Closed;
      this.emit('close');
      // Everything else is closed; the caller learns that the adapter could not close cleanly.
      if (adapterFailure !== undefined) throw adapterFailure.error;
    });
    return this.#closing;
  }

  // ---- Internals ---------------------------------------------------------------------------

  #listen(port: number, host: string | undefined, backlog: number | undefined): HttpServer {
    const server = createServer(answerUpgradeRequired);
    server.on('connection', (socket: Socket) => this.#unupgraded.watch(socket));
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#unupgraded.forget(socket as Socket);
      this.handleUpgrade(request, socket, head);
    });
    server.on('listening', () => this.emit('listening'));
    server.on('error', (error: Error) => this.emit('error', error));
    server.listen(port, host, backlog);
    return server;
  }

  /** One function for every connection (a closure per connection would stay with it for its life). */
  readonly #connectionClosed = (closed: ServerConnection<Data>): void => {
    closed[kLeaveTopics]();
    this.#connections.delete(closed);
    this.#checkAllGone();
  };

  #accept(
    request: WebSocketRequest,
    socket: Duplex,
    head: Buffer,
    outcome: Extract<UpgradeOutcome<Data>, { accepted: true }>,
    callback: ((connection: ServerConnection<Data>, request: WebSocketRequest) => void) | undefined,
  ): void {
    const { deflate, response } = outcome;
    if (socket.destroyed || !socket.writable) {
      deflate?.dispose();
      socket.destroy();
      return;
    }
    acceptHandshake(socket, response);
    const options = this.#options;
    const connection = new ServerConnection<Data>(
      socket,
      new ServerProtocol({
        maxFrameSize: options.maxFrameSize,
        maxMessageSize: options.maxMessageSize,
        maxPendingPongs: options.maxPendingPongs,
        receiveMode: options.receiveMode,
        // The application may still answer the messages that came before the client's close.
        deferCloseEcho: true,
        // The protocol disposes the extension (its zlib engines) when the transport is gone.
        extensions: deflate === undefined ? undefined : [deflate],
      }),
      {
        data: outcome.data,
        protocol: outcome.protocol,
        extensions: outcome.extensions,
        head,
        settings: options.connection,
        heartbeat: options.heartbeat,
        onClosed: this.#connectionClosed,
        topics: this.#topics,
      },
    );
    // RFC 8441 §5: "The HTTP/2 stream closure is also analogous to the TCP connection closure of
    // [RFC6455]": a reset stream or a dead session ends the WebSocket with 1006, and a reason.
    if (typeof response !== 'string') reportHttp2StreamFailure(connection, socket as ServerHttp2Stream);
    this.#connections.add(connection);
    if (deflate !== undefined) this.#deflateOf.set(connection, deflate);
    try {
      if (callback !== undefined) callback(connection, request);
      else this.emit('connection', connection, request);
    } finally {
      // The connection listens for the socket's errors from here on; two listeners would cost
      // every connection an array in the socket's listener table.
      socket.off('error', ignoreError);
      // Listeners first, then bytes: `head` (frames pipelined after the request) may hold a message.
      connection.start();
    }
  }

  #refuse(request: WebSocketRequest, socket: Duplex, error: HandshakeError): void {
    this.#emitHandshakeError(error, request);
    rejectHandshake(socket, {
      status: error.status,
      headers: Object.keys(error.headers).length > 0 ? error.headers : undefined,
      body: error.message,
    });
  }

  #emitHandshakeError(error: HandshakeError, request: WebSocketRequest): void {
    if (this.listenerCount('handshakeError') > 0) this.emit('handshakeError', error, request);
  }

  #checkAllGone(): void {
    if (this.#allGone === undefined || this.#connections.size > 0 || this.#handshakes.size > 0) return;
    const resolve = this.#allGone;
    this.#allGone = undefined;
    resolve();
  }
}
