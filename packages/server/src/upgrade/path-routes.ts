import { InvalidStateError } from '@ws/core';
import { pathOf } from './handle-upgrade.js';

/** Routes without a path take every path no other route claims. */
const ANY_PATH = Symbol('any path');

/**
 * The WebSocketServers attached to one HTTP (or HTTP/2) server, by request path: what both the
 * upgrade router and the extended CONNECT router look a request up in. At most one route per
 * path, and one without a path.
 */
export class PathRoutes<Listener> {
  /** How the server is named in errors, e.g. `HTTP server`. */
  readonly #serverName: string;
  readonly #routes = new Map<string | typeof ANY_PATH, Listener>();

  constructor(serverName: string) {
    this.#serverName = serverName;
  }

  get size(): number {
    return this.#routes.size;
  }

  add(path: string | undefined, listener: Listener): void {
    const key = path ?? ANY_PATH;
    if (this.#routes.has(key)) {
      throw new InvalidStateError(
        path === undefined
          ? `Another WebSocketServer without a path is attached to this ${this.#serverName}`
          : `Another WebSocketServer is attached to this ${this.#serverName} at ${path}`,
        'path',
      );
    }
    this.#routes.set(key, listener);
  }

  delete(path: string | undefined): void {
    this.#routes.delete(path ?? ANY_PATH);
  }

  /** The route of a request target's path (query excluded), else the route without a path. */
  find(requestTarget: string | undefined): Listener | undefined {
    return this.#routes.get(pathOf(requestTarget)) ?? this.#routes.get(ANY_PATH);
  }
}

/** A server's router: the listeners of the WebSocketServers attached to it, by path. */
export interface PathRouter<Listener> {
  add(path: string | undefined, listener: Listener): void;
  delete(path: string | undefined): void;
  readonly isEmpty: boolean;
}

/**
 * Adds `listener` for `path` to `server`'s router in `routers` (made with `create` on first
 * use); returns the detach function, which forgets the router once it routes nothing.
 */
export function attachToRouter<Server extends object, Listener>(
  routers: WeakMap<Server, PathRouter<Listener>>,
  server: Server,
  create: (server: Server) => PathRouter<Listener>,
  path: string | undefined,
  listener: Listener,
): () => void {
  let router = routers.get(server);
  if (router === undefined) {
    router = create(server);
    routers.set(server, router);
  }
  router.add(path, listener);
  const attached = router;
  return () => {
    attached.delete(path);
    if (attached.isEmpty) routers.delete(server);
  };
}
