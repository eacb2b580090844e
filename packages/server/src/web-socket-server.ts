import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  acceptPerMessageDeflate,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_PENDING_PONGS,
  encodeClosePayload,
  HandshakeError,
  InvalidStateError,
  type OutgoingHeaders,
  PERMESSAGE_DEFLATE,
  type PerMessageDeflate,
  type PerMessageDeflateServerOptions,
  ReceiveMode,
  ServerProtocol,
} from '@ws/core';
import { BackpressurePolicy, type SendData } from '@ws/core/node';
import { BroadcastMessage, type BroadcastResult, writeToAll } from './broadcast.js';
import { Heartbeat } from './heartbeat.js';
import { DEFAULT_RECEIVE_HIGH_WATER_MARK, ServerConnection } from './server-connection.js';
import { ServerError } from './server-error.js';
import {
  type Authenticate,
  type HandshakeInfo,
  negotiateUpgrade,
  type OriginPolicy,
  type UpgradeOutcome,
  type UpgradePolicy,
} from './upgrade/handle-upgrade.js';
import { rejectUpgrade } from './upgrade/reject-upgrade.js';
import { attachUpgradeListener } from './upgrade/upgrade-router.js';

/**
 * Outgoing messages longer than this are written as fragments of this size: 128 KiB, about the
 * chunk a browser sends its own large messages in (Chromium: 131000 bytes). In the 16 MiB echo
 * benchmark (bench/fragment-size.bench.ts) its throughput is within the noise of an
 * unfragmented message (16 and 64 KiB cost a little), while a pong waits behind a 16 MiB send
 * for under 1 ms instead of 12-30 ms. See the README's fragmentation policy.
 */
export const DEFAULT_FRAGMENT_SIZE = 128 * 1024;
export const DEFAULT_HEARTBEAT_INTERVAL = 30_000;
export const DEFAULT_HEARTBEAT_TIMEOUT = 30_000;
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
export const DEFAULT_CLOSE_TIMEOUT = 5_000;
export const DEFAULT_MAX_BUFFERED_AMOUNT = 16 * 1024 * 1024;

export interface WebSocketServerOptions<Data = undefined> {
  // ---- How it runs: `port` (standalone), `server` (sharing an HTTP server) or `noServer`. ----
  /** Listen on this port (0 picks a free one; `address()` tells which). */
  readonly port?: number;
  /** With `port`: the interface to listen on. Default: Node's (all interfaces). */
  readonly host?: string;
  /** With `port`: the listen backlog. */
  readonly backlog?: number;
  /** Share this HTTP(S) server's port: plain HTTP keeps working, upgrades to `path` come here. */
  readonly server?: HttpServer | HttpsServer;
  /** Accept nothing by itself: the application calls `handleUpgrade` (frameworks, custom routing). */
  readonly noServer?: boolean;
  /** Only this request path (query excluded) is accepted; any other is answered 404. Default: any. */
  readonly path?: string;

  // ---- Handshake. ----
  /** A client that has not completed its handshake in this many ms is dropped (408). Default 10 s. */
  readonly handshakeTimeout?: number;
  /** Origins allowed to connect (403 otherwise, a missing Origin included), or a predicate. Default: any. */
  readonly allowedOrigins?: OriginPolicy;
  /** Subprotocols this server speaks, in its order of preference. */
  readonly protocols?: readonly string[];
  /** Picks the subprotocol instead of `protocols`; must return one the client offered, or undefined. */
  readonly selectProtocol?: (offered: readonly string[], request: IncomingMessage) => string | undefined;
  /** Accepts (with per-connection `data`) or rejects (status, headers, body) a request; may be async. */
  readonly authenticate?: Authenticate<Data>;
  /** Extra headers for the 101 response, or a function of the request returning them. */
  readonly headers?:
    | OutgoingHeaders
    | ((request: IncomingMessage, info: HandshakeInfo) => OutgoingHeaders | undefined);

  // ---- Fragmentation and limits. ----
  /** Outgoing messages longer than this are sent as fragments of this size. Default 128 KiB. */
  readonly fragmentSize?: number;
  /** Largest incoming frame payload; larger closes with 1009. Default: `maxMessageSize`. */
  readonly maxFrameSize?: number;
  /** Largest incoming message, each fragment counted with its overhead; larger closes with 1009. Default 16 MiB. */
  readonly maxMessageSize?: number;
  /** Automatic pongs that may wait while the peer does not read; more closes with 1008. Default 256. */
  readonly maxPendingPongs?: number;
  /** `message`: whole messages (default). `stream`: `piece` events and `messages()` as bytes arrive. */
  readonly receiveMode?: ReceiveMode;
  /** Bytes queued unread in `messages()` past which the socket stops being read. Default 1 MiB. */
  readonly receiveHighWaterMark?: number;

  // ---- Backpressure. ----
  /** `bufferedAmount` past which `onBackpressure` applies. Default 16 MiB. */
  readonly maxBufferedAmount?: number;
  /**
   * What `send` and `broadcast` do for a connection whose `bufferedAmount` is past
   * `maxBufferedAmount`: `close` (close it with 1008, the default: a peer that stopped reading
   * cannot make the server's memory grow), `drop` (send nothing, report `dropped`) or `wait`
   * (queue without a bound, report `queued`). `sendAsync` is not subject to it: it waits.
   */
  readonly onBackpressure?: BackpressurePolicy;

  // ---- Liveness and shutdown. ----
  /** Ping every connection this often (ms); 0 turns the heartbeat off. Default 30 s. */
  readonly heartbeatInterval?: number;
  /** A ping unanswered this long (ms) gets the connection destroyed (1006, `heartbeat timeout`). Default 30 s. */
  readonly heartbeatTimeout?: number;
  /** How long a closing handshake may take before the socket is destroyed. Default 5 s. */
  readonly closeTimeout?: number;

  // ---- Compression. ----
  /**
   * permessage-deflate (RFC 7692): `true` for the defaults, or the policy. Default off: every
   * compressed connection costs CPU on the event loop and, when a side keeps its context, about
   * 200 KiB of zlib memory (see the README's table). With it on, an offer the policy cannot
   * accept is declined and the connection proceeds uncompressed; the inflated size of a message
   * counts against `maxMessageSize` while it inflates (1009 past it).
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateServerOptions;
}

/** The events of a {@link WebSocketServer}, for typed `on`/`once`. */
export interface WebSocketServerEvents<Data> {
  /** A handshake completed. Listeners are attached before the first frame is read. */
  connection: [connection: ServerConnection<Data>, request: IncomingMessage];
  /** The server this one created is listening (standalone mode). */
  listening: [];
  /** The server this one created failed (e.g. EADDRINUSE). */
  error: [error: Error];
  /** A handshake was refused; the client got `error.status`. For logging; nothing to do. */
  handshakeError: [error: HandshakeError, request: IncomingMessage];
  /** `close()` finished: every socket is gone. */
  close: [];
}

export interface BroadcastOptions<Data> {
  /** Send as binary. Default: true for bytes, false for strings. */
  readonly binary?: boolean;
  /** A connection (or several) not to send to, typically the sender. */
  readonly except?: ServerConnection<Data> | Iterable<ServerConnection<Data>>;
  /** Only connections for which this returns true. */
  readonly filter?: (connection: ServerConnection<Data>) => boolean;
  /** False sends the message uncompressed to every recipient, even where permessage-deflate was agreed. */
  readonly compress?: boolean;
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

/** The signal handed to the handshake hooks when the handshake is decided synchronously. */
const NEVER_ABORTED = new AbortController().signal;

/** A hook or the negotiation threw something unexpected: the server's fault, 500. */
function handshakeFailed(cause: unknown): HandshakeError {
  return new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', 'The handshake failed', { status: 500, cause });
}

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
  readonly #policy: UpgradePolicy<Data>;
  readonly #handshakeTimeout: number;
  readonly #fragmentSize: number;
  readonly #maxFrameSize: number;
  readonly #maxMessageSize: number;
  readonly #maxPendingPongs: number;
  readonly #receiveMode: ReceiveMode;
  readonly #receiveHighWaterMark: number;
  readonly #maxBufferedAmount: number;
  readonly #onBackpressure: BackpressurePolicy;
  readonly #closeTimeout: number;
  readonly #heartbeat: Heartbeat | undefined;

  readonly #ownServer: HttpServer | undefined;
  readonly #sharedServer: HttpServer | HttpsServer | undefined;
  readonly #detach: (() => void) | undefined;

  readonly #connections = new Set<ServerConnection<Data>>();
  /** The permessage-deflate of each compressed connection, for broadcasts to compress once per settings. */
  readonly #deflateOf = new WeakMap<ServerConnection<Data>, PerMessageDeflate>();
  /** Sockets between the `'upgrade'` event and the 101 (or the refusal), with their abort switch. */
  readonly #handshakes = new Map<Duplex, AbortController>();
  /**
   * Standalone: sockets connected but whose request head has not arrived, with when they
   * connected (whole milliseconds of `performance.now()`), in that order. See `#watchUnupgraded`.
   */
  readonly #unupgraded = new Map<Socket, number>();
  /** Sweeps `#unupgraded` while it is not empty. */
  #unupgradedSweep: ReturnType<typeof setInterval> | undefined;
  /** The 'close' listener of every unupgraded socket (the socket is `this`), removed on upgrade. */
  #onUnupgradedClose: ((this: Socket) => void) | undefined;

  #state: ServerState = ServerState.Open;
  #closing: Promise<void> | undefined;
  #allGone: (() => void) | undefined;

  constructor(options: WebSocketServerOptions<Data>) {
    super();
    const modes = [options.port !== undefined, options.server !== undefined, options.noServer === true];
    if (modes.filter(Boolean).length !== 1) {
      throw new InvalidStateError('Give exactly one of `port`, `server` or `noServer: true`', 'options');
    }
    this.#policy = {
      path: options.path,
      allowedOrigins: options.allowedOrigins,
      protocols: options.protocols,
      selectProtocol: options.selectProtocol,
      authenticate: options.authenticate,
      headers: options.headers,
      perMessageDeflate: deflatePolicy(options.perMessageDeflate),
    };
    this.#handshakeTimeout = positive(options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT, 'handshakeTimeout');
    this.#fragmentSize = positive(options.fragmentSize, DEFAULT_FRAGMENT_SIZE, 'fragmentSize');
    this.#maxMessageSize = positive(options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize');
    this.#maxFrameSize = positive(options.maxFrameSize, this.#maxMessageSize, 'maxFrameSize');
    this.#maxPendingPongs = positive(options.maxPendingPongs, DEFAULT_MAX_PENDING_PONGS, 'maxPendingPongs');
    this.#receiveMode = options.receiveMode ?? ReceiveMode.Message;
    this.#receiveHighWaterMark = positive(
      options.receiveHighWaterMark,
      DEFAULT_RECEIVE_HIGH_WATER_MARK,
      'receiveHighWaterMark',
    );
    this.#maxBufferedAmount = positive(options.maxBufferedAmount, DEFAULT_MAX_BUFFERED_AMOUNT, 'maxBufferedAmount');
    this.#onBackpressure = options.onBackpressure ?? BackpressurePolicy.Close;
    this.#closeTimeout = positive(options.closeTimeout, DEFAULT_CLOSE_TIMEOUT, 'closeTimeout');
    const heartbeatInterval = options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL;
    this.#heartbeat =
      heartbeatInterval === 0
        ? undefined
        : new Heartbeat({
            interval: heartbeatInterval,
            timeout: options.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT,
          });

    if (options.port !== undefined) {
      this.#ownServer = this.#listen(options.port, options.host, options.backlog);
    } else if (options.server !== undefined) {
      this.#sharedServer = options.server;
      this.#detach = attachUpgradeListener(options.server, options.path, (request, socket, head) =>
        this.handleUpgrade(request, socket, head),
      );
    }
  }

  /** Every open connection. */
  get clients(): ReadonlySet<ServerConnection<Data>> {
    return this.#connections;
  }

  /** The address the HTTP server listens on; null before it listens. Throws in `noServer` mode. */
  address(): AddressInfo | string | null {
    const server = this.#ownServer ?? this.#sharedServer;
    if (server === undefined) throw new InvalidStateError('A noServer WebSocketServer has no address', 'noServer');
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
    callback?: (connection: ServerConnection<Data>, request: IncomingMessage) => void,
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
    const remoteAddress = (socket as Partial<Socket>).remoteAddress;
    if (this.#policy.authenticate === undefined) {
      // Nothing asynchronous to wait for: decided and answered now, with no timer or signal.
      let outcome: UpgradeOutcome<Data>;
      try {
        // Synchronous when there is no `authenticate` hook (see `negotiateUpgrade`).
        outcome = negotiateUpgrade(request, this.#policy, { remoteAddress, signal: NEVER_ABORTED }) as UpgradeOutcome<Data>;
      } catch (error) {
        this.#refuse(request, socket, handshakeFailed(error));
        return;
      }
      this.#settle(request, socket, head, outcome, callback);
      return;
    }

    const controller = new AbortController();
    this.#handshakes.set(socket, controller);
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      socket.off('close', onClose);
      this.#handshakes.delete(socket);
      this.#checkAllGone();
      return true;
    };
    const timer = setTimeout(() => {
      const error = new HandshakeError('WS_ERR_HANDSHAKE_TIMEOUT', `No handshake within ${this.#handshakeTimeout} ms`);
      controller.abort(error);
      if (finish()) this.#refuse(request, socket, error);
    }, this.#handshakeTimeout);
    timer.unref?.();
    const onClose = (): void => {
      controller.abort(new HandshakeError('WS_ERR_HANDSHAKE_ABORTED', 'The client went away'));
      finish();
    };
    socket.once('close', onClose);
    controller.signal.addEventListener('abort', () => {
      // Server shutdown aborts from outside; the timer and the socket's close call `finish` themselves.
      const reason: unknown = controller.signal.reason;
      if (reason instanceof HandshakeError && reason.status === 503 && finish()) this.#refuse(request, socket, reason);
    });

    Promise.resolve()
      .then(() => negotiateUpgrade(request, this.#policy, { remoteAddress, signal: controller.signal }))
      .then(
        (outcome) => {
          if (finish()) this.#settle(request, socket, head, outcome, callback);
          else if (outcome.accepted) outcome.deflate?.dispose();
        },
        (error: unknown) => {
          if (finish()) this.#refuse(request, socket, handshakeFailed(error));
        },
      );
  }

  /** Answers a decided handshake: the 101 and a connection, or the refusal. */
  #settle(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    outcome: UpgradeOutcome<Data>,
    callback: ((connection: ServerConnection<Data>, request: IncomingMessage) => void) | undefined,
  ): void {
    if (!outcome.accepted) {
      this.#emitHandshakeError(outcome.error, request);
      rejectUpgrade(socket, outcome.rejection);
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
    const message = new BroadcastMessage(data, { binary: options.binary, fragmentSize: this.#fragmentSize });
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
    const timeout = options.timeout ?? this.#closeTimeout;
    this.#state = ServerState.Closing;
    this.#detach?.();

    const serverClosed = new Promise<void>((resolve) => {
      if (this.#ownServer === undefined || !this.#ownServer.listening) {
        resolve();
        return;
      }
      this.#ownServer.close(() => resolve());
    });
    for (const socket of this.#unupgraded.keys()) socket.destroy();
    this.#unupgraded.clear();
    clearInterval(this.#unupgradedSweep);
    this.#unupgradedSweep = undefined;
    const shutdown = new HandshakeError('WS_ERR_HANDSHAKE_REJECTED', 'The server is shutting down', { status: 503 });
    for (const controller of [...this.#handshakes.values()]) controller.abort(shutdown);

    const allGone = new Promise<void>((resolve) => {
      this.#allGone = resolve;
    });
    for (const connection of this.#connections) connection.close(code, reason);
    const stragglers = setTimeout(() => {
      for (const connection of this.#connections) {
        connection.terminateWith(
          new ServerError('WS_ERR_SHUTDOWN_TIMEOUT', `The closing handshake did not finish within ${timeout} ms`),
        );
      }
    }, timeout);
    this.#checkAllGone();

    this.#closing = Promise.all([allGone, serverClosed]).then(() => {
      clearTimeout(stragglers);
      this.#heartbeat?.stop();
      this.#state = ServerState.Closed;
      this.emit('close');
    });
    return this.#closing;
  }

  // ---- Internals ---------------------------------------------------------------------------

  #listen(port: number, host: string | undefined, backlog: number | undefined): HttpServer {
    const server = createServer((_request: IncomingMessage, response: ServerResponse) => {
      // RFC 7231 §6.5.15: "The server MUST send an Upgrade header field in a 426 response".
      const body = 'Upgrade Required';
      response.writeHead(426, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        connection: 'Upgrade, close',
      });
      response.end(body);
    });
    const forget = (socket: Socket): void => this.#forgetUnupgraded(socket);
    this.#onUnupgradedClose = function (this: Socket): void {
      forget(this);
    };
    server.on('connection', (socket: Socket) => this.#watchUnupgraded(socket));
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#forgetUnupgraded(socket as Socket);
      this.handleUpgrade(request, socket, head);
    });
    server.on('listening', () => this.emit('listening'));
    server.on('error', (error: Error) => this.emit('error', error));
    server.listen(port, host, backlog);
    return server;
  }

  /**
   * Slowloris: a client that connects and sends its request head slowly, or never, would hold
   * a socket forever. Node's own `headersTimeout` is checked only every 30 s by default, so the
   * standalone server keeps its own deadline from the moment of the connection: one interval
   * timer, ticking every quarter of `handshakeTimeout` while sockets wait, drops those past it
   * (so after `handshakeTimeout` to 1.25 × `handshakeTimeout`). A timer and closures per socket
   * lived from the connection to its request, long enough to be promoted to the old generation
   * and leave it fragmented: about 0.45 KiB of RSS per connection at 10,000 connections.
   */
  #watchUnupgraded(socket: Socket): void {
    this.#unupgraded.set(socket, Math.ceil(performance.now()));
    socket.on('close', this.#onUnupgradedClose!);
    if (this.#unupgradedSweep === undefined) {
      this.#unupgradedSweep = setInterval(this.#sweepUnupgraded, Math.max(1, this.#handshakeTimeout / 4));
      this.#unupgradedSweep.unref();
    }
  }

  readonly #sweepUnupgraded = (): void => {
    const connectedBefore = performance.now() - this.#handshakeTimeout;
    for (const [socket, connectedAt] of this.#unupgraded) {
      // In connection order: the ones after this connected later.
      if (connectedAt > connectedBefore) break;
      this.#forgetUnupgraded(socket);
      if (socket.destroyed) continue;
      // Nothing in the handshake can be trusted to end: answer like Node does, then drop it.
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      setTimeout(() => socket.destroy(), 1_000).unref();
    }
    // Stopped here rather than when the last socket upgrades, so that clients connecting one
    // after the other do not each start a timer.
    if (this.#unupgraded.size === 0) {
      clearInterval(this.#unupgradedSweep);
      this.#unupgradedSweep = undefined;
    }
  };

  #forgetUnupgraded(socket: Socket): void {
    if (this.#unupgraded.delete(socket)) socket.off('close', this.#onUnupgradedClose!);
  }

  /** One function for every connection (a closure per connection would stay with it for its life). */
  readonly #connectionClosed = (closed: ServerConnection<Data>): void => {
    this.#connections.delete(closed);
    this.#checkAllGone();
  };

  #accept(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    outcome: Extract<UpgradeOutcome<Data>, { accepted: true }>,
    callback: ((connection: ServerConnection<Data>, request: IncomingMessage) => void) | undefined,
  ): void {
    const { deflate } = outcome;
    if (socket.destroyed || !socket.writable) {
      deflate?.dispose();
      socket.destroy();
      return;
    }
    socket.write(outcome.response);
    const connection = new ServerConnection<Data>(
      socket,
      new ServerProtocol({
        maxFrameSize: this.#maxFrameSize,
        maxMessageSize: this.#maxMessageSize,
        maxPendingPongs: this.#maxPendingPongs,
        receiveMode: this.#receiveMode,
        // The application may still answer the messages that came before the client's close.
        deferCloseEcho: true,
        // The protocol disposes the extension (its zlib engines) when the transport is gone.
        extensions: deflate === undefined ? undefined : [deflate],
      }),
      {
        data: outcome.data,
        protocol: outcome.protocol,
        extensions: outcome.extensions,
        closeTimeout: this.#closeTimeout,
        fragmentSize: this.#fragmentSize,
        maxBufferedAmount: this.#maxBufferedAmount,
        onBackpressure: this.#onBackpressure,
        receiveHighWaterMark: this.#receiveHighWaterMark,
        heartbeat: this.#heartbeat,
        onClose: this.#connectionClosed,
      },
    );
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
      connection.start(head);
    }
  }

  #refuse(request: IncomingMessage, socket: Duplex, error: HandshakeError): void {
    this.#emitHandshakeError(error, request);
    rejectUpgrade(socket, {
      status: error.status,
      headers: Object.keys(error.headers).length > 0 ? error.headers : undefined,
      body: error.message,
    });
  }

  #emitHandshakeError(error: HandshakeError, request: IncomingMessage): void {
    if (this.listenerCount('handshakeError') > 0) this.emit('handshakeError', error, request);
  }

  #checkAllGone(): void {
    if (this.#allGone === undefined || this.#connections.size > 0 || this.#handshakes.size > 0) return;
    const resolve = this.#allGone;
    this.#allGone = undefined;
    resolve();
  }
}

/**
 * The `perMessageDeflate` option as the policy the handshake applies, checked now: a bad
 * option throws `InvalidStateError` from the constructor instead of failing every handshake
 * with 500. Checking builds one extension for a typical offer (its zlib engines are created on
 * first use only, so it costs nothing) and disposes it.
 */
function deflatePolicy(option: boolean | PerMessageDeflateServerOptions | undefined): PerMessageDeflateServerOptions | undefined {
  if (option === undefined || option === false) return undefined;
  const policy = option === true ? {} : option;
  const probe = acceptPerMessageDeflate(
    [{ name: PERMESSAGE_DEFLATE, params: new Map([['client_max_window_bits', true]]) }],
    policy,
  );
  probe?.extension.dispose();
  return policy;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new InvalidStateError(`${name} must be a positive number`, name);
  return value;
}
