import type { IncomingHttpHeaders } from 'node:http';
import { constants, Http2ServerRequest, type Http2Server, type Http2SecureServer, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import { isWebSocketConnect } from '@ws/core';
import { attachToRouter, PathRoutes, type PathRouter } from './path-routes.js';
import { rejectExtendedConnect } from './reject-extended-connect.js';

export type AnyHttp2Server = Http2Server | Http2SecureServer;

export type ExtendedConnectListener = (stream: ServerHttp2Stream, request: Http2ServerRequest) => void;

/**
 * One `'stream'` listener per HTTP/2 server, shared by every WebSocketServer attached to it
 * (each at its own path), for extended CONNECT requests with `:protocol: websocket`
 * (RFC 8441). It listens to `'stream'` rather than to the compatibility API's events: `'stream'`
 * fires for every request whether or not the application uses the compatibility API, which
 * Node only sets up once a `'request'` listener is added. When the compatibility API is on,
 * Node also emits `'connect'` for these streams and answers 405 when nobody listens, so a
 * `'connect'` listener here leaves the WebSocket streams alone and answers other CONNECTs as
 * Node would have. An extended CONNECT for another protocol that nobody else can take is
 * answered 501: RFC 9220 §3 (the same mechanism over HTTP/3): "If a server advertises support
 * for Extended CONNECT but receives an Extended CONNECT request with a ":protocol" value that is
 * unknown or is not supported, the server SHOULD respond to the request with a 501 (Not
 * Implemented) status code".
 *
 * Attaching turns on SETTINGS_ENABLE_CONNECT_PROTOCOL for the sessions the server accepts from
 * then on (RFC 8441 §3: a client may use the extended CONNECT only "Upon receipt of
 * SETTINGS_ENABLE_CONNECT_PROTOCOL with a value of 1"); sessions already open keep theirs.
 */
class ExtendedConnectRouter {
  readonly #server: AnyHttp2Server;
  readonly #routes = new PathRoutes<ExtendedConnectListener>('HTTP/2 server');

  constructor(server: AnyHttp2Server) {
    this.#server = server;
  }

  get isEmpty(): boolean {
    return this.#routes.size === 0;
  }

  add(path: string | undefined, listener: ExtendedConnectListener): void {
    const first = this.#routes.size === 0;
    this.#routes.add(path, listener);
    if (first) {
      this.#server.updateSettings({ enableConnectProtocol: true });
      this.#server.on('stream', this.#onStream);
      this.#server.on('connect', this.#onCompatConnect);
    }
  }

  delete(path: string | undefined): void {
    this.#routes.delete(path);
    if (this.#routes.size > 0) return;
    this.#server.off('stream', this.#onStream);
    this.#server.off('connect', this.#onCompatConnect);
  }

  readonly #onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    if (!isWebSocketConnect(headers)) {
      // RFC 9220 §3 (see below) for a server where nobody else could take it.
      if (headers[':protocol'] !== undefined && this.#isOnlyStreamListener()) rejectExtendedConnect(stream, { status: 501 });
      return;
    }
    const listener = this.#routes.find(headers[':path'] as string | undefined);
    if (listener !== undefined) {
      listener(stream, new Http2ServerRequest(stream, headers, {}, rawHeaders));
      return;
    }
    if (this.#isOnlyStreamListener()) rejectExtendedConnect(stream, { status: 404 });
  };

  /**
   * Whether no other `'stream'` listener (besides the compatibility API's, which leaves CONNECT
   * to `'connect'` listeners) could answer a stream.
   */
  #isOnlyStreamListener(): boolean {
    return this.#server.listenerCount('stream') <= 1 + (this.#server.listenerCount('request') > 0 ? 1 : 0);
  }

  readonly #onCompatConnect = (request: Http2ServerRequest, response: Http2ServerResponse): void => {
    // Extended CONNECTs are answered by the 'stream' listener.
    if (request.headers[':protocol'] !== undefined || this.#server.listenerCount('connect') > 1) return;
    // A plain CONNECT gets Node's own answer.
    response.statusCode = constants.HTTP_STATUS_METHOD_NOT_ALLOWED;
    response.end();
  };
}

const routers = new WeakMap<AnyHttp2Server, PathRouter<ExtendedConnectListener>>();

/** Whether `server` is an HTTP/2 server (`http2.createServer` or `http2.createSecureServer`). */
export function isHttp2Server(server: object): server is AnyHttp2Server {
  return typeof (server as Partial<Http2Server>).updateSettings === 'function';
}

/** Routes `server`'s WebSocket extended CONNECTs for `path` (every unclaimed path when undefined); returns the detach function. */
export function attachExtendedConnectListener(
  server: AnyHttp2Server,
  path: string | undefined,
  listener: ExtendedConnectListener,
): () => void {
  return attachToRouter(routers, server, (target) => new ExtendedConnectRouter(target), path, listener);
}
