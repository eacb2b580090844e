import type { ClientConnection, ClientConnectionOptions } from './client-connection.js';
import type { HandshakeOptions } from './connect/client-handshake.js';
import { openClientConnection } from './open-client-connection.js';
import type { ReconnectOptions } from './reconnect-policy.js';
import { ReconnectingConnection } from './reconnecting-connection.js';

export interface ConnectOptions extends Omit<HandshakeOptions, 'protocols'>, ClientConnectionOptions {
  /** Subprotocols to offer, in order of preference (RFC 6455 §1.9). */
  readonly protocols?: string | readonly string[];
}

/**
 * Opens a WebSocket connection and resolves once the server accepted it. Rejects with a
 * `HandshakeError` (its `status` and `headers` are the server's answer) when the server refuses
 * or answers anything but a valid 101, when the transport fails, on `handshakeTimeout` and on
 * `signal`; throws `TypeError`/`RangeError` for an unusable URL or option.
 *
 * With `reconnect`, resolves with a `ReconnectingConnection` once a first connection opened
 * (retrying failed attempts by the same policy), and rejects when the policy gives up first.
 *
 * ```ts
 * const connection = await connect('wss://example.com/chat', { protocols: ['chat.v1'] });
 * connection.send('hello');
 * for await (const message of connection) console.log(message);
 * ```
 */
export function connect(
  url: string | URL,
  options: ConnectOptions & { readonly reconnect: ReconnectOptions | true },
): Promise<ReconnectingConnection>;
export function connect(url: string | URL, options?: ConnectOptions & { readonly reconnect?: false }): Promise<ClientConnection>;
export async function connect(
  url: string | URL,
  options: ConnectOptions & { readonly reconnect?: ReconnectOptions | boolean } = {},
): Promise<ClientConnection | ReconnectingConnection> {
  const { reconnect, ...connectOptions } = options;
  if (reconnect === undefined || reconnect === false) return openClientConnection(url, connectOptions);
  const connection = new ReconnectingConnection(url, { ...connectOptions, reconnect });
  await connection.opened;
  return connection;
}
