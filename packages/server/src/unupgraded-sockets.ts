import type { Socket } from 'node:net';

/** Node's own answer to a request head that did not arrive in time, then the connection ends. */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/**
 * Most sockets one turn of the sweep drops. Dropping one costs about 40 µs of the loop (measured
 * on a shared 2-core machine, with Node's HTTP teardown of the socket); 4,000 at once held the
 * loop for several hundred ms. 256 keep a turn to about 10–20 ms.
 */
export const SWEEP_BATCH_SIZE = 256;

export interface UnupgradedSocketsOptions {
  readonly timeout: number;
  /** Most sockets handled per turn of the event loop; `SWEEP_BATCH_SIZE` by default. */
  readonly batchSize?: number;
}

/**
 * The slowloris guard of a standalone server: a client that connects and sends its request
 * head slowly, or never, would hold a socket forever. Node's own `headersTimeout` is checked
 * only every 30 s by default, so the server keeps its own deadline from the moment of the
 * connection: one interval timer, ticking every quarter of the timeout while sockets wait,
 * answers those past it with 408 and destroys them (so between 1 and 1.25 × the timeout after
 * they connected). One timer for all sockets: a timer and closures per socket lived from the
 * connection to its request, long enough to be promoted to the old generation and leave it
 * fragmented (about 0.45 KiB of RSS per connection at 10,000), and dropping thousands at once
 * armed thousands of timers.
 *
 * A tick drops at most `batchSize` sockets in one turn of the event loop and goes on in the next
 * (`setImmediate`, after the I/O waiting meanwhile), oldest first, so that thousands of
 * connections falling due together do not stall the loop for every other client.
 */
export class UnupgradedSockets {
  readonly #timeout: number;
  readonly #batchSize: number;
  /** Sockets connected whose request head has not arrived, with when they connected (whole ms), in that order. */
  readonly #waiting = new Map<Socket, number>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #continuation: ReturnType<typeof setImmediate> | undefined;
  #turns = 0;
  #mostInOneTurn = 0;
  readonly #onClose: (this: Socket) => void;

  constructor(options: UnupgradedSocketsOptions) {
    this.#timeout = options.timeout;
    this.#batchSize = options.batchSize ?? SWEEP_BATCH_SIZE;
    const forget = (socket: Socket): void => this.forget(socket);
    this.#onClose = function (this: Socket): void {
      forget(this);
    };
  }

  /** Turns the sweep has run, and the most sockets it dropped in one of them. */
  get sweepStatistics(): { readonly turns: number; readonly mostInOneTurn: number } {
    return { turns: this.#turns, mostInOneTurn: this.#mostInOneTurn };
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
    this.#waiting.clear();
    this.#stop();
  }

  readonly #tick = (): void => {
    // A sweep still going on from the previous tick carries on with this tick's work too.
    if (this.#continuation === undefined) this.#sweepTurn();
  };

  readonly #sweepTurn = (): void => {
    this.#continuation = undefined;
    this.#turns++;
    let handled = 0;
    const connectedBefore = performance.now() - this.#timeout;
    for (const [socket, connectedAt] of this.#waiting) {
      // In connection order: the ones after this connected later.
      if (connectedAt > connectedBefore || handled === this.#batchSize) break;
      this.forget(socket);
      if (socket.destroyed) continue;
      // Nothing in the handshake can be trusted to end: answer like Node's own request timeout
      // does, with a 408 and the socket destroyed at once. Ending it instead (our FIN, then the
      // peer's, read by Node's HTTP server with the request still half parsed) cost the loop
      // about three times as much per socket, most of it in the turn after the sweep.
      socket.write(REQUEST_TIMEOUT_RESPONSE);
      socket.destroy();
      handled++;
    }
    this.#mostInOneTurn = Math.max(this.#mostInOneTurn, handled);
    if (handled === this.#batchSize) {
      this.#continuation = setImmediate(this.#sweepTurn);
      this.#continuation.unref();
      return;
    }
    // Stopped here rather than when the last socket upgrades, so that clients connecting one
    // after the other do not each start a timer.
    if (this.#waiting.size === 0) this.#stop();
  };

  #stop(): void {
    clearInterval(this.#sweep);
    clearImmediate(this.#continuation);
    this.#sweep = undefined;
    this.#continuation = undefined;
  }
}
