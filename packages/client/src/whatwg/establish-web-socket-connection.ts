import { abortTransport } from '@ws/core/node';
import { checkConnectionOptions, ClientConnection } from '../client-connection.js';
import { performHandshake } from '../connect/client-handshake.js';
import type { ClientTarget } from '../connect/resolve-url.js';
import type { ConnectOptions } from '../connect.js';

/**
 * The WHATWG classes' "establish a WebSocket connection": the opening handshake, then a
 * `ClientConnection` that has not started reading (its owner attaches listeners and calls
 * `start()`). `signal` is the owner's: aborting it cancels the handshake, and a handshake that
 * completes after it was aborted is torn down instead of opening. The owner checks `signal` again
 * when this resolves, and abandons a connection it no longer wants.
 */
export async function establishWebSocketConnection(
  target: ClientTarget,
  options: Omit<ConnectOptions, 'protocols' | 'signal'>,
  protocols: readonly string[],
  signal: AbortSignal,
): Promise<ClientConnection> {
  checkConnectionOptions(options);
  const handshake = await performHandshake(target, { ...options, protocols, signal });
  const release = (): void => {
    abortTransport(handshake.socket);
    for (const extension of handshake.negotiatedExtensions) extension.dispose();
  };
  if (signal.aborted) {
    release();
    throw new DOMException('The connection was closed before it opened', 'AbortError');
  }
  try {
    return new ClientConnection(handshake, options);
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Gives up a connection its owner abandoned between the handshake and the moment it could take
 * it (`close()` or an abort in between): started without listeners, then terminated, it runs
 * the engine's close path, which releases the transport and the extensions.
 */
export function abandonConnection(connection: ClientConnection): void {
  connection.start();
  connection.terminate();
}
