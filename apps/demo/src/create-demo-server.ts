import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { RedisAdapter } from '@ws/redis';
import { ReceiveMode, type ServerConnection, type WebSocketRequest, WebSocketServer } from '@ws/server';
import { ChatRoom, type ChatGuest } from './chat-room.js';
import { DemoLog, type LogWriter } from './demo-log.js';

export interface DemoServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 3000; 0 picks a free port (`url` tells which). */
  readonly port?: number;
  /** Where the log lines go. Default: nowhere. */
  readonly log?: LogWriter;
  /** How often the server pings every connection, in ms; the page shows the round trip. Default 2000. */
  readonly heartbeatInterval?: number;
  /**
   * A Redis URL (`REDIS_URL` of `pnpm --filter demo dev`): the chat room then publishes through
   * Redis, so that demo servers on other ports or machines with the same Redis share it.
   * Default: none, the room is this server's own and no Redis is needed.
   */
  readonly redisUrl?: string;
  /**
   * Serve over HTTPS with this key and certificate, on an HTTP/2 server that also speaks
   * HTTP/1.1 (`allowHTTP1`): WebSockets arrive as extended CONNECTs (RFC 8441) from browsers
   * that use HTTP/2, and as upgrades otherwise. Default: plain HTTP/1.1.
   */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface DemoServer {
  /** The page, e.g. `http://127.0.0.1:3000/` (`https:` with `tls`). */
  readonly url: string;
  /** The echo endpoint on the same port, e.g. `ws://127.0.0.1:3000/` (`wss:` with `tls`). */
  readonly webSocketUrl: string;
  /** Closes every WebSocket with 1001, then the HTTP server; resolves when every socket is gone. */
  close(): Promise<void>;
}

/** The demo heartbeats quickly, so that the connection panel shows a latency within seconds. */
const DEMO_HEARTBEAT_INTERVAL = 2_000;
const SHUTDOWN = { code: 1001, reason: 'Server shutting down' } as const;

/** The page, served from files beside this module: no bundler, no build step. */
const PAGE_FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
} as const;

type PagePath = keyof typeof PAGE_FILES;

/**
 * The demo: ONE `http.Server` serves the page and accepts WebSocket upgrades on the same port,
 * as a minimal WebSocket server on Node's `'upgrade'` event does. Two WebSocketServers share it: the chat room on `/chat`, the echo
 * endpoint on every other path. The echo endpoint receives in streaming mode, so that the log
 * shows each fragment as it arrives ("fragment 1: 131072 bytes"), and still echoes whole messages.
 */
export async function createDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const log = new DemoLog(options.log ?? (() => {}));
  const page = await loadPage();
  const heartbeatInterval = options.heartbeatInterval ?? DEMO_HEARTBEAT_INTERVAL;

  const onRequest = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) =>
    servePage(page, request, response);
  const http = options.tls === undefined ? createServer(onRequest) : createSecureServer({ ...options.tls, allowHTTP1: true }, onRequest);
  // HTTP/1.1 keep-alive connections and HTTP/2 sessions (a browser holds some) would keep the server open.
  const sockets = new Set<Socket>();
  http.on(options.tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const echo = new WebSocketServer({ server: http, receiveMode: ReceiveMode.Stream, heartbeat: { interval: heartbeatInterval } });
  echo.on('connection', (connection, request) => {
    announceTransport(connection, request);
    const id = log.open(request.url ?? '/', remoteOf(connection));
    echoWholeMessages(connection, id, log);
    logClose(connection, id, log);
  });

  const adapter = options.redisUrl === undefined ? undefined : chatAdapter(options.redisUrl, log);
  const chat = new WebSocketServer<ChatGuest>({
    server: http,
    path: '/chat',
    adapter,
    authenticate: ChatRoom.admit,
    // Chat lines are short; nobody needs to send the room megabytes.
    maxMessageSize: 64 * 1024,
    heartbeat: { interval: heartbeatInterval },
  });
  chat.on('connection', (connection, request) => {
    announceTransport(connection, request);
    const id = log.open(request.url ?? '/chat', remoteOf(connection));
    connection.on('message', (data, isBinary) => log.message(id, data, isBinary));
    logClose(connection, id, log);
  });
  // Rooms sharing a topic number their members apart (the ids colour the names on the page).
  new ChatRoom(chat, { firstId: adapter === undefined ? 0 : randomInt(1_000_000) * 1_000_000 });

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Its reconnecting connections would keep the process alive.
    await adapter?.close();
    throw error;
  }
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const secure = options.tls !== undefined;
  return {
    url: `${secure ? 'https' : 'http'}://${host}:${address.port}/`,
    webSocketUrl: `${secure ? 'wss' : 'ws'}://${host}:${address.port}/`,
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        await Promise.all([echo.close(SHUTDOWN), chat.close(SHUTDOWN)]);
        for (const socket of sockets) socket.destroy();
        await httpClosed;
      })();
      return closing;
    },
  };
}

/**
 * The chat room's adapter: its topic becomes the Redis channel `demo:chat`. Redis being away is
 * logged, not fatal: the room goes on within this server and joins the others when it is back.
 */
function chatAdapter(url: string, log: DemoLog): RedisAdapter {
  const adapter = new RedisAdapter({ url, prefix: 'demo:' });
  // The URL may carry a password: the log names the host only.
  const where = new URL(url).host;
  let lastError = '';
  adapter.on('ready', () => {
    lastError = '';
    log.info(`chat shared through Redis at ${where}`);
  });
  adapter.on('outage', () => log.info(`Redis at ${where} is away: the chat is this server's own until it is back`));
  // Every reconnection attempt fails the same way while Redis is away: one line, not one per attempt.
  adapter.on('error', (error) => {
    if (error.message !== lastError) log.info(`Redis at ${where}: ${error.message}`);
    lastError = error.message;
  });
  return adapter;
}

/**
 * Echoes each message whole, with its type, while logging every fragment as it ends: Chromium
 * sends a large message as 131072-byte frames, which the log then shows fragment by fragment.
 */
function echoWholeMessages(connection: ServerConnection, id: number, log: DemoLog): void {
  let pieces: Buffer[] = [];
  let frameBytes = 0;
  let fragments = 0;
  connection.on('piece', (piece) => {
    if (piece.messageStart) {
      pieces = [];
      frameBytes = 0;
      fragments = 0;
    }
    // The pieces are views into the received chunks, which nothing else reuses: no copy needed.
    pieces.push(piece.data);
    frameBytes += piece.data.length;
    if (piece.frameEnd) {
      fragments += 1;
      // An unfragmented message gets only its message line.
      if (!piece.messageEnd || fragments > 1) log.fragment(id, fragments, frameBytes);
      frameBytes = 0;
    }
    if (piece.messageEnd) {
      const message = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      pieces = [];
      log.message(id, message, piece.isBinary, fragments);
      connection.send(message, { binary: piece.isBinary });
    }
  });
}

/**
 * Tells the page which protocol its WebSocket rides, when it asks with `?transport` in the URL:
 * one text message `{"type":"transport","httpVersion":"2.0"}` (or "1.1") before anything else.
 * The server knows it from the request: an `Http2ServerRequest` for an extended CONNECT, an
 * `IncomingMessage` for an upgrade. A client that does not ask gets a plain echo.
 */
function announceTransport<Data>(connection: ServerConnection<Data>, request: WebSocketRequest): void {
  if (!new URL(request.url ?? '/', 'http://localhost').searchParams.has('transport')) return;
  connection.send(JSON.stringify({ type: 'transport', httpVersion: request.httpVersion }));
}

function logClose<Data>(connection: ServerConnection<Data>, id: number, log: DemoLog): void {
  // A peer that breaks the protocol is closed with the code the RFC asks for; the close line says which.
  connection.on('error', () => {});
  connection.on('close', (code, reason, wasClean) => log.close(id, code, reason, wasClean));
}

function remoteOf<Data>(connection: ServerConnection<Data>): string {
  const address = connection.remoteAddress ?? 'unknown';
  return `${address.includes(':') ? `[${address}]` : address}:${connection.remotePort ?? 0}`;
}

type Page = Record<PagePath, { readonly body: Buffer; readonly type: string }>;

async function loadPage(): Promise<Page> {
  const directory = new URL('./page/', import.meta.url);
  const entries = await Promise.all(
    Object.entries(PAGE_FILES).map(async ([path, { file, type }]) => {
      const body = await readFile(new URL(file, directory));
      return [path, { body, type }] as const;
    }),
  );
  return Object.fromEntries(entries) as Page;
}

function servePage(page: Page, request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    respond(response, 405, 'text/plain; charset=utf-8', Buffer.from('Method Not Allowed\n'), { allow: 'GET, HEAD' });
    return;
  }
  const file = Object.hasOwn(page, path) ? page[path as PagePath] : undefined;
  if (file === undefined) {
    respond(response, 404, 'text/plain; charset=utf-8', Buffer.from('Not Found\n'));
    return;
  }
  respond(response, 200, file.type, request.method === 'HEAD' ? undefined : file.body, {
    'content-length': String(file.body.length),
  });
}

function respond(
  response: ServerResponse | Http2ServerResponse,
  status: number,
  type: string,
  body: Buffer | undefined,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...(body === undefined ? {} : { 'content-length': String(body.length) }),
    ...headers,
  });
  if (body === undefined) response.end();
  else response.end(body);
}
