import { abortTransport } from '@ws/core/node';
import { checkConnectionOptions, ClientConnection } from './client-connection.js';
import { performHandshake } from './connect/client-handshake.js';
import { resolveUrl } from './connect/resolve-url.js';
import type { ConnectOptions } from './connect.js';

/** One connection attempt: the handshake, then a `ClientConnection` that starts reading on the next turn. */
export async function openClientConnection(url: string | URL, options: ConnectOptions): Promise<ClientConnection> {
  const target = resolveUrl(url);
  // A bad connection option fails before anything is connected.
  checkConnectionOptions(options);
  const handshake = await performHandshake(target, { ...options, protocols: normalizeProtocols(options.protocols) });
  let connection: ClientConnection;
  try {
    connection = new ClientConnection(handshake, options);
  } catch (error) {
    abortTransport(handshake.socket);
    for (const extension of handshake.negotiatedExtensions) extension.dispose();
    throw error;
  }
  // Reading starts after the caller's `await` has resumed and attached its listeners.
  setImmediate(() => connection.start());
  return connection;
}

/** The subprotocols option as a list (a single string means one protocol). */
export function normalizeProtocols(protocols: string | readonly string[] | undefined): readonly string[] {
  if (protocols === undefined) return [];
  return typeof protocols === 'string' ? [protocols] : protocols;
}
