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
