import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

/**
 * The request a WebSocket was opened with, as the hooks and the `'connection'` event see it: an
 * HTTP/1.1 upgrade (`IncomingMessage`, `httpVersion` `'1.1'`) or an HTTP/2 extended CONNECT
 * (RFC 8441) as Node's compatibility API presents it (`Http2ServerRequest`, `httpVersion`
 * `'2.0'`, `method` `'CONNECT'`, pseudo-header fields such as `:protocol` in `headers`). Both
 * have `headers`, `url`, `method`, `httpVersion` and `socket`.
 */
export type WebSocketRequest = IncomingMessage | Http2ServerRequest;
