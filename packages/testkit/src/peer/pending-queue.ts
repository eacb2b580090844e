/** What a scripted server queues: an opening handshake not answered yet. */
interface Droppable {
  destroy(): void;
}

interface Waiter<T> {
  resolve(item: T): void;
  reject(error: Error): void;
}

/**
 * The handshakes a scripted server received and the script has not taken yet, in arrival order,
 * and the script's `nextUpgrade` calls waiting for one. Shared by the HTTP/1.1 and the HTTP/2
 * scripted servers.
 */
export class PendingQueue<T extends Droppable> {
  readonly #ready: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #closed = false;

  /** Hands `item` to the oldest waiter, or keeps it for the next `next`. */
  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#ready.push(item);
    else waiter.resolve(item);
  }

  /**
   * The next item. Rejects after `timeout` ms (Infinity waits until `close()`) with the error
   * `timedOut` makes, or at once once closed.
   */
  next(timeout: number, timedOut: () => Error): Promise<T> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#closed) return Promise.reject(new Error('The scripted server is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer =
        timeout === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => {
              const index = this.#waiters.indexOf(waiter);
              if (index !== -1) this.#waiters.splice(index, 1);
              reject(timedOut());
            }, timeout);
      this.#waiters.push(waiter);
    });
  }

  /** Drops the items nobody took. */
  discard(): void {
    for (const item of this.#ready.splice(0)) item.destroy();
  }

  /** Rejects every waiter and drops what nobody took; `next` rejects from now on. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('The scripted server is closed'));
    this.discard();
  }
}
