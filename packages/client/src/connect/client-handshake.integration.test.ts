import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { HandshakeError } from '@ws/core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { connect } from '../connect.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An HTTP server on 127.0.0.1 whose upgrade requests go to `onUpgrade`; a ws server is attached when asked. */
async function startHttpServer(
  onUpgrade?: (request: http.IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<{ server: http.Server; wss: WebSocketServer; url: string; requests: http.IncomingMessage[] }> {
  const server = http.createServer();
  return listen(server, onUpgrade);
}

async function listen(
  server: http.Server | https.Server,
  onUpgrade?: (request: http.IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<{ server: http.Server; wss: WebSocketServer; url: string; requests: http.IncomingMessage[] }> {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary })));
  const requests: http.IncomingMessage[] = [];
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push(request);
    socket.on('error', () => undefined);
    if (onUpgrade !== undefined) onUpgrade(request, socket, head);
    else wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const scheme = server instanceof https.Server ? 'wss' : 'ws';
  return { server, wss, url: `${scheme}://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests };
}

function redirect(socket: Duplex, status: number, location: string): void {
  socket.end(`HTTP/1.1 ${status} Moved\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

async function echoOnce(url: string, options: Parameters<typeof connect>[1]): Promise<string> {
  const connection = await connect(url, options);
  cleanups.push(() => connection.terminate());
  connection.send('ping?');
  const [data] = await once(connection, 'message');
  await connection.close(1000);
  return String(data);
}

/** A CONNECT proxy (RFC 7231 §4.3.6) that relays to 127.0.0.1 only and records what it was asked. */
async function startProxy(options: { requireAuthorization?: string } = {}): Promise<{ url: string; requests: http.IncomingMessage[] }> {
  const server = http.createServer((_request, response) => response.writeHead(405).end());
  const requests: http.IncomingMessage[] = [];
  const tunnels = new Set<Duplex>();
  server.on('connect', (request: http.IncomingMessage, client: Duplex, head: Buffer) => {
    requests.push(request);
    client.on('error', () => undefined);
    tunnels.add(client);
    if (options.requireAuthorization !== undefined && request.headers['proxy-authorization'] !== options.requireAuthorization) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const port = Number(new URL(`http://${request.url}`).port);
    const upstream = netConnect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    tunnels.add(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const tunnel of tunnels) tunnel.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests };
}

describe('redirects', () => {
  test('are refused by default with the 3xx status and Location', async () => {
    const { url } = await startHttpServer((_request, socket) => redirect(socket, 302, '/elsewhere'));
    const error = await connect(url).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_STATUS', status: 302 });
    expect((error as HandshakeError).headers.location).toBe('/elsewhere');
  });

  test('a chain is followed with followRedirects, keeping credentials on the same origin only', async () => {
    const final = await startHttpServer();
    const sameOrigin = await startHttpServer((request, socket) => {
      if (request.url === '/start') redirect(socket, 301, '/second?step=2');
      else redirect(socket, 307, `${final.url.replace('ws:', 'http:')}/final#ignored`);
    });
    const reply = await echoOnce(`${sameOrigin.url}/start`, {
      followRedirects: true,
      headers: { Authorization: 'Bearer secret', Cookie: 'session=1', 'X-Kept': 'yes' },
    });
    expect(reply).toBe('ping?');
    expect(sameOrigin.requests.map((request) => request.url)).toEqual(['/start', '/second?step=2']);
    expect(sameOrigin.requests[1]!.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'session=1' });
    // The last hop changed the port, hence the origin: credentials are dropped.
    expect(final.requests[0]!.url).toBe('/final');
    expect(final.requests[0]!.headers.authorization).toBeUndefined();
    expect(final.requests[0]!.headers.cookie).toBeUndefined();
    expect(final.requests[0]!.headers['x-kept']).toBe('yes');
  });

  test('URL credentials do not follow a cross-origin redirect', async () => {
    const final = await startHttpServer();
    const first = await startHttpServer((_request, socket) => redirect(socket, 302, `${final.url}/next`));
    const withCredentials = first.url.replace('ws://', 'ws://user:pass@');
    expect(await echoOnce(withCredentials, { followRedirects: true })).toBe('ping?');
    expect(first.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('user:pass').toString('base64')}`);
    expect(final.requests[0]!.headers.authorization).toBeUndefined();
  });

  test('more than maxRedirects fails with WS_ERR_HANDSHAKE_REDIRECT', async () => {
    let hops = 0;
    const { url } = await startHttpServer((_request, socket) => redirect(socket, 302, `/hop${++hops}`));
    const error = await connect(url, { followRedirects: true, maxRedirects: 3 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_REDIRECT', status: 302 });
    expect(hops).toBe(4);
  });

  test('a redirect to a Unix socket or another scheme is refused', async () => {
    const toUnix = await startHttpServer((_request, socket) => redirect(socket, 302, 'ws+unix:/tmp/x.sock'));
    await expect(connect(toUnix.url, { followRedirects: true })).rejects.toMatchObject({ code: 'WS_ERR_HANDSHAKE_REDIRECT' });
    const toFtp = await startHttpServer((_request, socket) => redirect(socket, 302, 'ftp://127.0.0.1/'));
    await expect(connect(toFtp.url, { followRedirects: true })).rejects.toMatchObject({ code: 'WS_ERR_HANDSHAKE_REDIRECT' });
  });
});

describe('HTTP proxy (CONNECT)', () => {
  test('tunnels through an explicit proxy with Basic proxy credentials', async () => {
    const target = await startHttpServer();
    const proxy = await startProxy({ requireAuthorization: `Basic ${Buffer.from('p:w').toString('base64')}` });
    const proxyUrl = proxy.url.replace('http://', 'http://p:w@');
    expect(await echoOnce(`${target.url}/via-proxy`, { proxy: proxyUrl })).toBe('ping?');
    const authority = new URL(target.url).host;
    expect(proxy.requests.map((request) => [request.method, request.url, request.headers.host])).toEqual([
      ['CONNECT', authority, authority],
    ]);
    expect(target.requests[0]!.url).toBe('/via-proxy');
  });

  test('a proxy refusal rejects with its status', async () => {
    const target = await startHttpServer();
    const proxy = await startProxy({ requireAuthorization: 'Basic nope' });
    const error = await connect(target.url, { proxy: proxy.url }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_NETWORK', status: 407 });
    expect((error as HandshakeError).headers['proxy-authenticate']).toBe('Basic');
  });

  test('HTTP_PROXY is used from the environment and NO_PROXY bypasses it; proxy: false ignores both', async () => {
    const target = await startHttpServer();
    const proxy = await startProxy();
    expect(await echoOnce(target.url, { environment: { HTTP_PROXY: proxy.url } })).toBe('ping?');
    expect(proxy.requests).toHaveLength(1);
    expect(await echoOnce(target.url, { environment: { HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1' } })).toBe(
      'ping?',
    );
    expect(await echoOnce(target.url, { environment: { HTTP_PROXY: proxy.url }, proxy: false })).toBe('ping?');
    expect(proxy.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(3);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// The certificate is made at test time by the openssl CLI (Node cannot sign an X.509
// certificate by itself); the suite is skipped where openssl is missing.
describe.skipIf(!hasOpenssl)('wss: with a self-signed certificate made in the test', () => {
  let directory = '';
  let key: Buffer;
  let cert: Buffer;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'ws-client-tls-'));
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem'), '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(directory, 'key.pem'));
    cert = readFileSync(join(directory, 'cert.pem'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  async function startSecureServer(): Promise<{ url: string; servernames: (string | false | null)[] }> {
    const server = https.createServer({ key, cert });
    const servernames: (string | false | null)[] = [];
    server.on('secureConnection', (socket: TLSSocket) => servernames.push(socket.servername));
    const { url } = await listen(server);
    return { url, servernames };
  }

  test('connects when the certificate is trusted through ca', async () => {
    const { url, servernames } = await startSecureServer();
    expect(url.startsWith('wss://')).toBe(true);
    expect(await echoOnce(`${url}/secure`, { ca: cert })).toBe('ping?');
    // An IP literal is never sent as SNI.
    expect(servernames).toEqual([false]);
  });

  test('fails with the TLS error when the certificate is not trusted', async () => {
    const { url } = await startSecureServer();
    const error = await connect(url).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'WS_ERR_HANDSHAKE_NETWORK', status: 0 });
    expect((error as HandshakeError).cause).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  test('rejectUnauthorized: false and servername are passed through', async () => {
    const { url, servernames } = await startSecureServer();
    expect(await echoOnce(url, { rejectUnauthorized: false, servername: 'localhost' })).toBe('ping?');
    expect(servernames).toEqual(['localhost']);
  });

  test('https: URLs become wss:, and TLS runs end to end through a proxy', async () => {
    const { url } = await startSecureServer();
    const proxy = await startProxy();
    expect(await echoOnce(url.replace('wss:', 'https:'), { ca: cert, proxy: proxy.url })).toBe('ping?');
    expect(proxy.requests).toHaveLength(1);
  });
});
