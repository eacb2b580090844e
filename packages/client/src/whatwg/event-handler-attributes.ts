interface EventHandlerEntry {
  value: object;
  readonly listener: (event: Event) => void;
}

const { addEventListener, removeEventListener } = EventTarget.prototype;

/**
 * The `on<type>` event handler IDL attributes of an EventTarget, as HTML defines them
 * (https://html.spec.whatwg.org/multipage/webappapis.html#event-handler-attributes).
 *
 * - `EventHandler` is `[LegacyTreatNonObjectAsNull] callback EventHandlerNonNull`: any object is
 *   stored and read back as it is, anything else is null. A non-callable object (one with
 *   `handleEvent`, say) is kept but does nothing, because WebIDL's "invoke a callback function"
 *   returns at once when "IsCallable(F) is false".
 * - "If eventHandler's value is null, activate the event handler": the listener is added when a
 *   first non-null value is set, so the handler keeps the position among the listeners it got
 *   then; setting another value replaces it in place, and null removes it.
 * - The callback is called with the event's currentTarget as `this`, and "if return value is
 *   false, then set event's canceled flag" (the WebSocket events are not cancelable, so this
 *   only matters for events that are).
 *
 * Listeners are added with EventTarget's own methods, so that an overridden `addEventListener`
 * on the target does not see them.
 */
export class EventHandlerAttributes {
  readonly #target: EventTarget;
  readonly #entries = new Map<string, EventHandlerEntry>();

  constructor(target: EventTarget) {
    this.#target = target;
  }

  get(type: string): object | null {
    return this.#entries.get(type)?.value ?? null;
  }

  set(type: string, value: unknown): void {
    const handler = (typeof value === 'object' && value !== null) || typeof value === 'function' ? value : null;
    const existing = this.#entries.get(type);
    if (handler === null) {
      if (existing === undefined) return;
      removeEventListener.call(this.#target, type, existing.listener);
      this.#entries.delete(type);
      return;
    }
    if (existing !== undefined) {
      existing.value = handler;
      return;
    }
    const target = this.#target;
    const entry: EventHandlerEntry = {
      value: handler,
      listener: (event) => {
        const callback = entry.value;
        if (typeof callback !== 'function') return;
        const result: unknown = Reflect.apply(callback, event.currentTarget ?? target, [event]);
        if (result === false) event.preventDefault();
      },
    };
    this.#entries.set(type, entry);
    addEventListener.call(target, type, entry.listener);
  }
}
