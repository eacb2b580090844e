import { ClientProtocol, type ProtocolLimits } from '@ws/core';
import type { Http2Stream } from 'node:http2';
import {
  CLIENT_DEFAULTS,
  Connection,
  type ConnectionOptions,
  Heartbeat,
  reportHttp2StreamFailure,
  resolveConnectionOptions,
} from '@ws/core/node';
import type { HandshakeResult } from './connect/client-handshake.js';

export interface ClientConnectionOptions extends ConnectionOptions, ProtocolLimits {}

/** Checks the connection options (a `TypeError`/`RangeError` naming the bad one) before a handshake spends a connection on them. */
export function checkConnectionOptions(options: ClientConnectionOptions): void {
  resolveConnectionOptions(options, CLIENT_DEFAULTS);
  Heartbeat.fromOption(options.heartbeat, CLIENT_DEFAULTS.heartbeat)?.stop();
}

/**
 * An open client connection: the engine every connection runs on ({@link Connection} of
 * `@ws/core/node`: `send`/`sendAsync`/`sendStream`, `for await` over messages, `ping()`
 * measuring the round trip, `close()` resolving once the closing handshake is done, flow
 * control) plus what only a client has: the URL it reached and the server's 101 response.
 * Made by `connect()`, which starts it on the next turn of the event loop, so listeners and
 * iterators attached right after `await connect()` see every message, including any that
 * arrived with the handshake response.
 */
export class ClientConnection extends Connection {
  /** The URL connected to (after any redirects). */
  readonly url: string;
  /** The headers of the server's 101 response (e.g. `set-cookie`); of its 200 over HTTP/2. */
  readonly responseHeaders: Readonly<Record<string, string | string[]>>;
  /** `'1.1'` for an upgraded connection, `'2.0'` for a WebSocket on an HTTP/2 stream (RFC 8441). */
  readonly httpVersion: '1.1' | '2.0';

  constructor(handshake: HandshakeResult, options: ClientConnectionOptions = {}) {
    const protocol = new ClientProtocol({
      maxFrameSize: options.maxFrameSize,
      maxMessageSize: options.maxMessageSize,
      maxPendingPongs: options.maxPendingPongs,
      // The application may still answer the messages that came before the server's close.
      deferCloseEcho: true,
      // Negotiated in the handshake (permessage-deflate); the protocol disposes them when the transport is gone.
      extensions: handshake.negotiatedExtensions,
    });
    super(handshake.socket, protocol, {
      settings: resolveConnectionOptions(options, CLIENT_DEFAULTS),
      protocol: handshake.protocol,
      extensions: handshake.extensions,
      head: handshake.head,
      heartbeat: Heartbeat.fromOption(options.heartbeat, CLIENT_DEFAULTS.heartbeat),
    });
    this.url = handshake.url.href;
    this.responseHeaders = handshake.response.headers;
    this.httpVersion = handshake.httpVersion;
    // RFC 8441 §5: "The HTTP/2 stream closure is also analogous to the TCP connection closure of
    // [RFC6455]": a reset stream or a dead session ends the WebSocket with 1006, and a reason.
    if (handshake.httpVersion === '2.0') reportHttp2StreamFailure(this, handshake.socket as Http2Stream);
  }
}
