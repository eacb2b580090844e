import { afterEach, expect } from 'vitest';
import type WebSocket from 'ws';
import type { WebSocketServer, WebSocketServerOptions } from '../src/index.js';
import { connectPeer, type Peer } from './connect-peer.js';
import { startServer } from './start-server.js';

/** A standalone server's options, without where it listens (127.0.0.1 and a free port). */
export type ListeningOptions = Omit<WebSocketServerOptions<undefined>, 'port' | 'server' | 'noServer'>;

/**
 * Servers and `ws` peers for the topics tests, taken down after each test: call it once at the
 * top of a test file. `cleanups` takes anything else a test must undo, run last in, first out.
 */
export function topicPeers() {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    cleanups,
    /** A listening server, closed after the test. */
    async started(options: ListeningOptions = {}) {
      const result = await startServer(options);
      cleanups.push(() => result.server.close({ timeout: 200 }));
      return result;
    },
    /** A `ws` client connected to `server`, terminated after the test. */
    connect(server: WebSocketServer, url: string, options?: WebSocket.ClientOptions): Promise<Peer> {
      return connectPeer(server, url, cleanups, options);
    },
  };
}

/** The peer's next message, which must be text. */
export async function nextText(peer: Peer): Promise<string> {
  const { data, isBinary } = await peer.next();
  expect(isBinary).toBe(false);
  return data.toString('utf8');
}
