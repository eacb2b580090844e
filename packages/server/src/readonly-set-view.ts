/**
 * A live, read-only view of a set that may not exist yet (a connection allocates its set of
 * topics on its first subscription and drops it after its last): reads see the current set, or
 * an empty one, and there is nothing to cast back to a mutable `Set`.
 */
export class ReadonlySetView<Value> implements ReadonlySet<Value> {
  readonly #current: () => ReadonlySet<Value> | undefined;

  constructor(current: () => ReadonlySet<Value> | undefined) {
    this.#current = current;
  }

  get size(): number {
    return this.#current()?.size ?? 0;
  }

  has(value: Value): boolean {
    return this.#current()?.has(value) === true;
  }

  forEach(callback: (value: Value, key: Value, set: ReadonlySet<Value>) => void, thisArg?: unknown): void {
    for (const value of this) callback.call(thisArg, value, value, this);
  }

  /** Over a copy: the set may change while the caller iterates (unsubscribing in the loop). */
  values(): SetIterator<Value> {
    return new Set(this.#current()).values();
  }

  keys(): SetIterator<Value> {
    return this.values();
  }

  entries(): SetIterator<[Value, Value]> {
    return new Set(this.#current()).entries();
  }

  [Symbol.iterator](): SetIterator<Value> {
    return this.values();
  }
}
