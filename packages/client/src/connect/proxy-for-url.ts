import type { ClientTarget } from './resolve-url.js';

export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The proxy the usual environment variables name for a target, or undefined for a direct
 * connection. Follows curl's conventions, which most HTTP clients share:
 * - `wss:` uses `https_proxy`/`HTTPS_PROXY`, falling back to `http_proxy`/`HTTP_PROXY`;
 *   `ws:` uses `http_proxy`/`HTTP_PROXY` (the lower-case name wins when both are set);
 * - `no_proxy`/`NO_PROXY` is a comma- or space-separated list of host names, domain suffixes
 *   (`example.com` and `.example.com` both match `a.example.com`) and IP literals, each
 *   optionally with `:port`; `*` disables the proxy altogether. CIDR ranges are not supported.
 * A proxy value without a scheme is taken as `http://`.
 */
export function proxyForUrl(target: ClientTarget, environment: ProxyEnvironment = process.env): URL | undefined {
  if (target.socketPath !== undefined) return undefined;
  const value = target.secure
    ? (environment.https_proxy ?? environment.HTTPS_PROXY ?? environment.http_proxy ?? environment.HTTP_PROXY)
    : (environment.http_proxy ?? environment.HTTP_PROXY);
  if (value === undefined || value.trim() === '') return undefined;
  if (bypassesProxy(target, environment.no_proxy ?? environment.NO_PROXY ?? '')) return undefined;
  const trimmed = value.trim();
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`);
  } catch {
    return undefined;
  }
}

function bypassesProxy(target: ClientTarget, noProxy: string): boolean {
  const hostname = target.hostname.toLowerCase();
  for (const rawEntry of noProxy.split(/[\s,]+/)) {
    if (rawEntry === '') continue;
    if (rawEntry === '*') return true;
    let entry = rawEntry.toLowerCase();
    let port: number | undefined;
    // An IPv6 literal has colons of its own: only a bracketed one carries a port.
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const named = /^([^:]+):(\d+)$/.exec(entry);
    if (bracketed !== null) {
      entry = bracketed[1]!;
      if (bracketed[2] !== undefined) port = Number(bracketed[2]);
    } else if (named !== null) {
      entry = named[1]!;
      port = Number(named[2]);
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (port !== undefined && port !== target.port) continue;
    if (entry.startsWith('.')) {
      if (hostname.endsWith(entry) || hostname === entry.slice(1)) return true;
    } else if (hostname === entry || hostname.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}
