import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { attachToRouter, PathRoutes, type PathRouter } from './path-routes.js';
import { rejectUpgrade } from './reject-upgrade.js';

export type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * One `'upgrade'` listener per HTTP server, shared by every WebSocketServer attached to it, so
 * that several servers on one port each get their own path: a request goes to the server of
 * its path. A path nobody claims is answered 404, unless the application has its own
 * `'upgrade'` listener on the HTTP server, which then gets it (e.g. a dev server's own socket).
 */
class UpgradeRouter {
  readonly #server: HttpServer | HttpsServer;
  readonly #routes = new PathRoutes<UpgradeListener>('HTTP server');

  constructor(server: HttpServer | HttpsServer) {
    this.#server = server;
  }

  get isEmpty(): boolean {
    return this.#routes.size === 0;
  }

  add(path: string | undefined, listener: UpgradeListener): void {
    const first = this.#routes.size === 0;
    this.#routes.add(path, listener);
    if (first) this.#server.on('upgrade', this.#onUpgrade);
  }

  delete(path: string | undefined): void {
    this.#routes.delete(path);
    if (this.#routes.size === 0) this.#server.off('upgrade', this.#onUpgrade);
  }

  readonly #onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const listener = this.#routes.find(request.url);
    if (listener !== undefined) {
      listener(request, socket, head);
      return;
    }
    if (this.#server.listenerCount('upgrade') > 1) return;
    rejectUpgrade(socket, { status: 404 });
  };
}

const routers = new WeakMap<HttpServer | HttpsServer, PathRouter<UpgradeListener>>();

/** Routes `server`'s upgrade requests for `path` (every unclaimed path when undefined); returns the detach function. */
export function attachUpgradeListener(
  server: HttpServer | HttpsServer,
  path: string | undefined,
  listener: UpgradeListener,
): () => void {
  return attachToRouter(routers, server, (target) => new UpgradeRouter(target), path, listener);
}
