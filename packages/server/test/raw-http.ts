import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent, as text. */
  readonly text: string;
  /** The status code of the response, or 0 when none came. */
  readonly status: number;
  /** Response header fields, lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** How the exchange ended: the server closed the socket, or our deadline passed first. */
  readonly ending: 'closed' | 'timeout';
  readonly elapsed: number;
}

/** A valid upgrade request for `path`, with `headers` added or (with `undefined`) removed. */
export function upgradeRequest(
  path = '/',
  headers: Record<string, string | undefined> = {},
  requestLine = `GET ${path} HTTP/1.1`,
): string {
  const fields: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  let head = `${requestLine}\r\n`;
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) head += `${name}: ${value}\r\n`;
  return `${head}\r\n`;
}

/**
 * Sends raw bytes to 127.0.0.1:`port` and collects the answer until the server closes the
 * socket, or `timeout` ms pass (reported as `ending: 'timeout'`, i.e. the server hung).
 */
export function exchangeRaw(
  port: number,
  bytes: string | Buffer | readonly (string | Buffer)[],
  options: { timeout?: number; endAfterResponse?: boolean } = {},
): Promise<RawExchange> {
  const timeout = options.timeout ?? 3_000;
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let finished = false;
    const finish = (ending: RawExchange['ending']) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      const head = headEnd === -1 ? text : text.slice(0, headEnd);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
      resolve({
        text,
        status: status === undefined ? 0 : Number(status),
        headers,
        body: headEnd === -1 ? '' : text.slice(headEnd + 4),
        ending,
        elapsed: performance.now() - started,
      });
    };
    const timer = setTimeout(() => finish('timeout'), timeout);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => finish('closed'));
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      for (const part of Array.isArray(bytes) ? bytes : [bytes]) socket.write(part);
    });
  });
}
