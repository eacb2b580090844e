import type { IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { HandshakeError } from '@ws/core';
import { flattenHeaders } from './flatten-headers.js';
import { proxyForUrl, type ProxyEnvironment } from './proxy-for-url.js';
import type { ClientTarget } from './resolve-url.js';

/** TLS settings handed to `tls.connect` for `wss:` (see Node's `tls.connect` for each one). */
export type TlsOptions = Pick<
  tls.ConnectionOptions,
  | 'ca'
  | 'cert'
  | 'key'
  | 'pfx'
  | 'passphrase'
  | 'rejectUnauthorized'
  | 'servername'
  | 'checkServerIdentity'
  | 'minVersion'
  | 'maxVersion'
  | 'ciphers'
  | 'secureContext'
  | 'session'
>;

/** An HTTP(S) proxy reached with `CONNECT` (RFC 7231 §4.3.6). */
export interface ProxyOptions {
  /** `http://[user:password@]host:port` or `https://...`; userinfo becomes `Proxy-Authorization: Basic`. */
  readonly url: string | URL;
  /** Extra headers for the `CONNECT` request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** TLS settings for an `https:` proxy. */
  readonly tls?: tls.ConnectionOptions;
}

/** What a custom `createConnection` is told about the target. */
export interface CreateConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** The Unix socket path of a `ws+unix:` URL. */
  readonly socketPath: string | undefined;
  /** Whether the URL asked for TLS; a custom transport is responsible for it. */
  readonly secure: boolean;
  readonly servername: string;
}

export interface TransportOptions extends TlsOptions {
  /**
   * Makes the transport instead of `net.connect`/`tls.connect` (a custom tunnel, an in-memory
   * pair in a test). No proxy applies to it.
   */
  readonly createConnection?: (options: CreateConnectionOptions) => Duplex;
  /**
   * An HTTP(S) proxy to tunnel through, or `false` for none. When undefined, the
   * `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` environment variables decide.
   */
  readonly proxy?: string | URL | ProxyOptions | false;
  /** IP family for the DNS lookup (4 or 6). */
  readonly family?: number;
  readonly localAddress?: string;
  readonly lookup?: net.LookupFunction;
}

/**
 * Opens the byte stream a handshake runs over: TCP, TLS, a Unix socket, a tunnel through an
 * HTTP proxy, or whatever `createConnection` makes. The socket may still be connecting when
 * it is returned; its errors surface through whoever listens next (the handshake request).
 */
export async function openTransport(
  target: ClientTarget,
  options: TransportOptions,
  signal: AbortSignal,
  environment: ProxyEnvironment = process.env,
  alpnProtocols: readonly string[] = HTTP1_ALPN,
): Promise<Duplex> {
  const servername = options.servername ?? (net.isIP(target.hostname) === 0 ? target.hostname : '');
  if (options.createConnection !== undefined) {
    return options.createConnection({
      host: target.hostname,
      port: target.port,
      socketPath: target.socketPath,
      secure: target.secure,
      servername,
    });
  }
  if (target.socketPath !== undefined) return net.connect({ path: target.socketPath });

  const proxy = resolveProxy(target, options.proxy, environment);
  if (proxy === undefined) {
    const endpoint = {
      host: target.hostname,
      port: target.port,
      family: options.family,
      localAddress: options.localAddress,
      lookup: options.lookup,
    };
    if (!target.secure) return net.connect(endpoint);
    return tls.connect({ ...tlsSettings(options, alpnProtocols), ...endpoint, servername });
  }

  const tunnel = await openProxyTunnel(target, proxy, signal);
  if (!target.secure) return tunnel;
  // Through the tunnel, TLS runs end to end with the target: the proxy only relays bytes.
  return tls.connect({ ...tlsSettings(options, alpnProtocols), socket: tunnel, host: target.hostname, servername });
}

/** The WebSocket handshake is HTTP/1.1 (RFC 6455 §4.1); ALPN says so to servers that ask. */
const HTTP1_ALPN: readonly string[] = ['http/1.1'];

function tlsSettings(options: TlsOptions, alpnProtocols: readonly string[]): tls.ConnectionOptions {
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, checkServerIdentity, minVersion, maxVersion, ciphers } =
    options;
  const settings: tls.ConnectionOptions = {
    ca,
    cert,
    key,
    pfx,
    passphrase,
    rejectUnauthorized,
    checkServerIdentity,
    minVersion,
    maxVersion,
    ciphers,
    secureContext: options.secureContext,
    session: options.session,
    ALPNProtocols: [...alpnProtocols],
  };
  for (const name of Object.keys(settings) as (keyof tls.ConnectionOptions)[]) {
    if (settings[name] === undefined) delete settings[name];
  }
  return settings;
}

interface ResolvedProxy {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: tls.ConnectionOptions | undefined;
}

function resolveProxy(
  target: ClientTarget,
  option: TransportOptions['proxy'],
  environment: ProxyEnvironment,
): ResolvedProxy | undefined {
  if (option === false) return undefined;
  if (option === undefined) {
    const url = proxyForUrl(target, environment);
    return url === undefined ? undefined : { url, headers: {}, tls: undefined };
  }
  if (typeof option === 'string' || option instanceof URL) return { url: new URL(String(option)), headers: {}, tls: undefined };
  return { url: new URL(String(option.url)), headers: option.headers ?? {}, tls: option.tls };
}

/**
 * Asks the proxy for a tunnel to the target with `CONNECT host:port` and resolves with the
 * tunnelled socket once the proxy answers 2xx (RFC 7231 §4.3.6: "Any 2xx (Successful)
 * response indicates that the sender (and all inbound proxies) will switch to tunnel mode").
 */
function openProxyTunnel(target: ClientTarget, proxy: ResolvedProxy, signal: AbortSignal): Promise<Duplex> {
  const secureProxy = proxy.url.protocol === 'https:';
  if (!secureProxy && proxy.url.protocol !== 'http:') {
    return Promise.reject(new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', `Unsupported proxy scheme ${proxy.url.protocol}`));
  }
  const authority = target.hostname.includes(':') ? `[${target.hostname}]:${target.port}` : `${target.hostname}:${target.port}`;
  const headers: Record<string, string> = { ...proxy.headers, host: authority };
  if (proxy.url.username !== '' || proxy.url.password !== '') {
    const credentials = `${decodeURIComponent(proxy.url.username)}:${decodeURIComponent(proxy.url.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const proxyHost = proxy.url.hostname.startsWith('[') ? proxy.url.hostname.slice(1, -1) : proxy.url.hostname;
  const requestOptions: https.RequestOptions = {
    ...proxy.tls,
    method: 'CONNECT',
    host: proxyHost,
    port: proxy.url.port === '' ? (secureProxy ? 443 : 80) : Number(proxy.url.port),
    path: authority,
    headers,
    agent: false,
  };
  return new Promise((resolve, reject) => {
    const request = (secureProxy ? https : http).request(requestOptions);
    const onAbort = (): void => {
      request.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    request.once('connect', (response: IncomingMessage, socket: Duplex, head: Buffer) => {
      signal.removeEventListener('abort', onAbort);
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        reject(
          new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', `The proxy refused the tunnel to ${authority} with ${status}`, {
            status,
            headers: flattenHeaders(response.headers),
          }),
        );
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(new HandshakeError('WS_ERR_HANDSHAKE_NETWORK', `Proxy ${proxy.url.host}: ${error.message}`, { cause: error }));
    });
    request.end();
  });
}
