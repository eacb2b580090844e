import type { Server as HttpServer } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import {
  acceptPerMessageDeflate,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_PENDING_PONGS,
  type OutgoingHeaders,
  PERMESSAGE_DEFLATE,
  type PerMessageDeflateServerOptions,
  ReceiveMode,
} from '@ws/core';
import {
  type ConnectionOptions,
  Heartbeat,
  oneOfOption,
  positiveOption,
  resolveConnectionOptions,
  type ResolvedConnectionOptions,
  SERVER_DEFAULTS,
} from '@ws/core/node';
import { type Adapter, adapterOption } from './adapter.js';
import type { Authenticate, HandshakeInfo, OriginPolicy, UpgradePolicy } from './upgrade/handle-upgrade.js';
import type { WebSocketRequest } from './upgrade/web-socket-request.js';

export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

export interface WebSocketServerOptions<Data = undefined> extends ConnectionOptions {
  // ---- How it runs: `port` (standalone), `server` (sharing an HTTP server) or `noServer`. ----
  /** Listen on this port (0 picks a free one; `address()` tells which). */
  readonly port?: number;
  /** With `port`: the interface to listen on. Default: Node's (all interfaces). */
  readonly host?: string;
  /** With `port`: the listen backlog. */
  readonly backlog?: number;
  /**
   * Share this server's port: plain HTTP keeps working, WebSockets to `path` come here. An
   * HTTP/2 server (`http2.createSecureServer`, or `http2.createServer` for h2c) takes WebSockets
   * over HTTP/2 (RFC 8441 extended CONNECT; SETTINGS_ENABLE_CONNECT_PROTOCOL is turned on for
   * the sessions it accepts from then on), and HTTP/1.1 upgrades too with `allowHTTP1: true`.
   */
  readonly server?: HttpServer | HttpsServer | Http2Server | Http2SecureServer;
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
  readonly selectProtocol?: (offered: readonly string[], request: WebSocketRequest) => string | undefined;
  /** Accepts (with per-connection `data`) or rejects (status, headers, body) a request; may be async. */
  readonly authenticate?: Authenticate<Data>;
  /** Extra headers for the 101 response, or a function of the request returning them. */
  readonly headers?:
    | OutgoingHeaders
    | ((request: WebSocketRequest, info: HandshakeInfo) => OutgoingHeaders | undefined);

  // ---- Incoming limits. ----
  /** Largest incoming frame payload; larger closes with 1009. Default: `maxMessageSize`. */
  readonly maxFrameSize?: number;
  /** Largest incoming message, each fragment counted with its overhead; larger closes with 1009. Default 16 MiB. */
  readonly maxMessageSize?: number;
  /** Automatic pongs that may wait while the peer does not read; more closes with 1008. Default 256. */
  readonly maxPendingPongs?: number;
  /** `message`: whole messages (default). `stream`: `piece` events and `messageStreams()` as bytes arrive. */
  readonly receiveMode?: ReceiveMode;

  // ---- Compression. ----
  /**
   * permessage-deflate (RFC 7692): `true` for the defaults, or the policy. Default off: every
   * compressed connection costs CPU and, when a side keeps its context, about 200 KiB of zlib
   * memory (see the README's table). With it on, an offer the policy cannot accept is declined
   * and the connection proceeds uncompressed; the inflated size of a message counts against
   * `maxMessageSize` while it inflates (1009 past it).
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateServerOptions;

  // ---- Scaling out. ----
  /**
   * Shares topics with other processes: every `publish` is handed on, and messages published
   * elsewhere reach this server's subscribers (`ClusterAdapter`, `@ws/redis`). Default: topics
   * are local to this server.
   */
  readonly adapter?: Adapter;
}

/** The options of one server, checked once and shared by all its connections. */
export interface ResolvedServerOptions<Data> {
  readonly policy: UpgradePolicy<Data>;
  readonly handshakeTimeout: number;
  readonly maxFrameSize: number;
  readonly maxMessageSize: number;
  readonly maxPendingPongs: number;
  readonly receiveMode: ReceiveMode;
  readonly connection: ResolvedConnectionOptions;
  readonly heartbeat: Heartbeat | undefined;
  readonly adapter: Adapter | undefined;
}

/** Checks every option (a `TypeError`/`RangeError` naming the bad one) and fills in the defaults. */
export function resolveServerOptions<Data>(options: WebSocketServerOptions<Data>): ResolvedServerOptions<Data> {
  const modes = [options.port !== undefined, options.server !== undefined, options.noServer === true];
  if (modes.filter(Boolean).length !== 1) {
    throw new TypeError('Give exactly one of the "port", "server" or "noServer: true" options');
  }
  const maxMessageSize = positiveOption(options.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize');
  return {
    policy: {
      path: options.path,
      allowedOrigins: options.allowedOrigins,
      protocols: options.protocols,
      selectProtocol: options.selectProtocol,
      authenticate: options.authenticate,
      headers: options.headers,
      perMessageDeflate: deflatePolicy(options.perMessageDeflate),
    },
    handshakeTimeout: positiveOption(options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT, 'handshakeTimeout', false),
    maxMessageSize,
    maxFrameSize: positiveOption(options.maxFrameSize, maxMessageSize, 'maxFrameSize'),
    maxPendingPongs: positiveOption(options.maxPendingPongs, DEFAULT_MAX_PENDING_PONGS, 'maxPendingPongs'),
    receiveMode: oneOfOption(options.receiveMode, Object.values(ReceiveMode), ReceiveMode.Message, 'receiveMode'),
    connection: resolveConnectionOptions(options, SERVER_DEFAULTS),
    heartbeat: Heartbeat.fromOption(options.heartbeat, SERVER_DEFAULTS.heartbeat),
    adapter: adapterOption(options.adapter),
  };
}

/**
 * The `perMessageDeflate` option as the policy the handshake applies, checked now: a bad
 * option throws from the constructor instead of failing every handshake with 500. Checking
 * builds one extension for a typical offer (its zlib engines are created on first use only, so
 * it costs nothing) and disposes it.
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
