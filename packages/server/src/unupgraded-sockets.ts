import type { Socket } from 'node:net';

/** Node's own answer to a request head that did not arrive in time, then the connection ends. */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/**
 * The slowloris guard of a standalone server: a client that connects and sends its request
 * head slowly, or never, would hold a socket forever. Node's own `headersTimeout` is checked
 * only every 30 s by default, so the server keeps its own deadline from the moment of the
 * connection: one interval timer, ticking every quarter of the timeout while sockets wait,
 * answers those past it with 408 (so between 1 and 1.25 × the timeout after they connected)
 * and destroys them on the next tick if they have not gone by then. One timer for all sockets:
 * a timer and closures per socket lived from the connection to its request, long enough to be
 * promoted to the old generation and leave it fragmented (about 0.45 KiB of RSS per
 * connection at 10,000), and dropping thousands at once armed thousands of timers.
 */
export class UnupgradedSockets {
  readonly #timeout: number;
  /** Sockets connected whose request head has not arrived, with when they connected (whole ms), in that order. */
  readonly #waiting = new Map<Socket, number>();
  /** Sockets answered with 408, destroyed on the next tick unless they closed. */
  #ending: Socket[] = [];
  #sweep: ReturnType<typeof setInterval> | undefined;
  readonly #onClose: (this: Socket) => void;

  constructor(timeout: number) {
    this.#timeout = timeout;
    const forget = (socket: Socket): void => this.forget(socket);
    this.#onClose = function (this: Socket): void {
      forget(this);
    };
  }

  watch(socket: Socket): void {
    this.#waiting.set(socket, Math.ceil(performance.now()));
    socket.on('close', this.#onClose);
    if (this.#sweep === undefined) {
      this.#sweep = setInterval(this.#tick, Math.max(1, this.#timeout / 4));
      this.#sweep.unref();
    }
  }

  /** The socket's request head arrived (or the socket closed): it is no longer watched. */
  forget(socket: Socket): void {
    if (this.#waiting.delete(socket)) socket.off('close', this.#onClose);
  }

  /** Shutdown: every waiting socket is destroyed at once. */
  destroyAll(): void {
    for (const socket of this.#waiting.keys()) socket.destroy();
    for (const socket of this.#ending) socket.destroy();
    this.#waiting.clear();
    this.#ending = [];
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  readonly #tick = (): void => {
    for (const socket of this.#ending) socket.destroy();
    this.#ending = [];
    const connectedBefore = performance.now() - this.#timeout;
    for (const [socket, connectedAt] of this.#waiting) {
      // In connection order: the ones after this connected later.
      if (connectedAt > connectedBefore) break;
      this.forget(socket);
      if (socket.destroyed) continue;
      // Nothing in the handshake can be trusted to end: answer like Node does, then drop it.
      socket.end(REQUEST_TIMEOUT_RESPONSE);
      this.#ending.push(socket);
    }
    // Stopped here rather than when the last socket upgrades, so that clients connecting one
    // after the other do not each start a timer.
    if (this.#waiting.size === 0 && this.#ending.length === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  };
}
