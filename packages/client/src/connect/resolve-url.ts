
/** The schemes a client accepts, with the port each one defaults to. */
export const DEFAULT_PORT = { 'ws:': 80, 'wss:': 443 } as const;

/** Where and how to connect, derived from a `ws:`, `wss:`, `http:`, `https:` or `ws+unix:` URL. */
export interface ClientTarget {
  /** The URL with `http:`/`https:` turned into `ws:`/`wss:` (what `WebSocket.url` shows). */
  readonly url: URL;
  /** Whether the connection runs over TLS. */
  readonly secure: boolean;
  /** The host to connect to: a name or an IP literal without brackets; `localhost` for a Unix socket. */
  readonly hostname: string;
  readonly port: number;
  /** The Unix socket path of a `ws+unix:` URL. */
  readonly socketPath: string | undefined;
  /** The request target: path and query. */
  readonly path: string;
  /** The `Host` header: the host (bracketed when IPv6), with the port unless it is the default. */
  readonly hostHeader: string;
  /** The origin the redirect policy compares: scheme, host and port. */
  readonly origin: string;
  /** Credentials from the URL's userinfo, sent as Basic authorization. */
  readonly username: string;
  readonly password: string;
}

/**
 * Parses a WebSocket URL (RFC 6455 §3) the way the WHATWG URL parser does, then derives the
 * connection parameters. `http:`/`https:` become `ws:`/`wss:` as the WHATWG WebSocket
 * constructor specifies. A Unix socket is named as `ws+unix:/path/to.sock:/request/path`.
 * A relative `input` is resolved against `base` when one is given (the WHATWG constructor's
 * "API base URL"). Throws `TypeError` for a URL that cannot be used.
 */
export function resolveUrl(input: string | URL, base?: string | URL): ClientTarget {
  let url: URL;
  try {
    url = new URL(String(input), base === undefined ? undefined : String(base));
  } catch {
    throw new TypeError(`Invalid URL: ${String(input)}${base === undefined ? '' : ` (against ${String(base)})`}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';

  // RFC 6455 §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and
  // MUST NOT be used on these URIs." (The WHATWG constructor throws a SyntaxError for one.)
  if (url.hash !== '' || url.href.endsWith('#')) {
    throw new TypeError(`A WebSocket URL must not have a fragment: ${url.href}`);
  }
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);

  if (url.protocol === 'ws+unix:') return resolveUnixUrl(url, username, password);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`Unsupported URL scheme ${url.protocol} (expected ws:, wss:, http:, https: or ws+unix:)`);
  }
  if (url.hostname === '') throw new TypeError(`A WebSocket URL needs a host: ${url.href}`);

  const secure = url.protocol === 'wss:';
  const defaultPort = DEFAULT_PORT[url.protocol];
  const port = url.port === '' ? defaultPort : Number(url.port);
  return {
    url,
    secure,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port,
    socketPath: undefined,
    path: `${url.pathname === '' ? '/' : url.pathname}${url.search}`,
    // The WHATWG URL keeps IPv6 literals bracketed in `host`, and drops a default port.
    hostHeader: url.host,
    origin: `${url.protocol}//${url.host}`,
    username,
    password,
  };
}

function resolveUnixUrl(url: URL, username: string, password: string): ClientTarget {
  const separator = url.pathname.indexOf(':');
  const socketPath = decodeURIComponent(separator === -1 ? url.pathname : url.pathname.slice(0, separator));
  const requestPath = separator === -1 ? '/' : url.pathname.slice(separator + 1) || '/';
  if (socketPath === '') throw new TypeError(`A ws+unix: URL needs a socket path: ${url.href}`);
  return {
    url,
    secure: false,
    hostname: 'localhost',
    port: 0,
    socketPath,
    path: `${requestPath.startsWith('/') ? '' : '/'}${requestPath}${url.search}`,
    hostHeader: 'localhost',
    origin: `ws+unix://${socketPath}`,
    username,
    password,
  };
}
