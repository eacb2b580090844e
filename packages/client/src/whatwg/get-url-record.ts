import { type ClientTarget, resolveUrl } from '../connect/resolve-url.js';

/**
 * The WHATWG constructors' "get a URL record" (https://websockets.spec.whatwg.org/#get-a-url-record):
 * "Let urlRecord be the result of applying the URL parser to url with baseURL. If urlRecord is
 * failure, then throw a "SyntaxError" DOMException. If urlRecord's scheme is "http", then set
 * urlRecord's scheme to "ws". Otherwise, if urlRecord's scheme is "https", set urlRecord's scheme
 * to "wss". If urlRecord's scheme is not "ws" or "wss", then throw a "SyntaxError" DOMException.
 * If urlRecord's fragment is non-null, then throw a "SyntaxError" DOMException."
 *
 * Node has no document, so the "API base URL" is the `baseURL` option; without it a relative URL
 * is a SyntaxError (as in undici). `ws+unix:` is accepted as well, a Node extra.
 */
export function getUrlRecord(url: string, baseURL: string | URL | undefined): ClientTarget {
  if (baseURL !== undefined && !URL.canParse(String(baseURL))) {
    throw new TypeError(`The baseURL option is not an absolute URL: ${String(baseURL)}`);
  }
  try {
    return resolveUrl(url, baseURL);
  } catch (error) {
    throw new DOMException((error as Error).message, 'SyntaxError');
  }
}
