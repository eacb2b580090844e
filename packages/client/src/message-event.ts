import { MessagePort } from 'node:worker_threads';
import { defineInterface } from './whatwg/define-interface.js';
import {
  type EventInit,
  isIterableObject,
  requireArguments,
  toDictionary,
  toDomString,
  toEventInit,
  toUsvString,
} from './whatwg/webidl-conversions.js';

/** `MessageEventSource`: of `WindowProxy or MessagePort or ServiceWorker`, Node has MessagePort. */
export type MessageEventSource = MessagePort;

// `any` as in lib.dom's `MessageEvent<T = any>`, so that browser code such as
// `JSON.parse(event.data)` type-checks unchanged.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface MessageEventInit<T = any> extends EventInit {
  readonly data?: T;
  readonly origin?: string;
  readonly lastEventId?: string;
  readonly source?: MessageEventSource | null;
  readonly ports?: Iterable<MessagePort>;
}

/**
 * HTML's `MessageEvent` (https://html.spec.whatwg.org/multipage/comms.html#messageevent), the
 * `message` event of a `WebSocket`. Node 20's global `MessageEvent` is not used: it is not a
 * WebIDL interface (`Object.prototype.toString` shows `[object Event]`), and its shape is the
 * worker_threads one. `initMessageEvent()`, a legacy method that re-initializes an event's type,
 * is left out: Node's `Event` cannot be re-initialized.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class MessageEvent<T = any> extends Event {
  readonly #data: T;
  readonly #origin: string;
  readonly #lastEventId: string;
  readonly #source: MessageEventSource | null;
  readonly #ports: readonly MessagePort[];

  constructor(type: string, eventInitDict?: MessageEventInit<T>) {
    requireArguments(arguments.length, 1, 'MessageEvent constructor');
    const eventType = toDomString(type);
    const init = toDictionary(eventInitDict, 'MessageEvent constructor: eventInitDict');
    const eventInit = toEventInit(init);
    // A dictionary's members are converted in lexicographic order; `any data = null`.
    const data = (init['data'] === undefined ? null : init['data']) as T;
    const lastEventId = init['lastEventId'];
    const lastEventIdValue = lastEventId === undefined ? '' : toDomString(lastEventId);
    const origin = init['origin'];
    const originValue = origin === undefined ? '' : toUsvString(origin);
    const ports = toPorts(init['ports']);
    const source = toSource(init['source']);
    super(eventType, eventInit);
    this.#data = data;
    this.#lastEventId = lastEventIdValue;
    this.#origin = originValue;
    this.#ports = ports;
    this.#source = source;
  }

  /** The message: a string for text; a Blob, an ArrayBuffer or a Buffer for binary, by `binaryType`. */
  get data(): T {
    return this.#data;
  }

  /** The origin of the WebSocket's URL (`ws://host:port`). */
  get origin(): string {
    return this.#origin;
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  get source(): MessageEventSource | null {
    return this.#source;
  }

  /** A `FrozenArray<MessagePort>`: the same frozen array on every read. */
  get ports(): readonly MessagePort[] {
    return this.#ports;
  }
}

defineInterface(MessageEvent, {
  name: 'MessageEvent',
  length: 1,
  attributes: ['data', 'origin', 'lastEventId', 'source', 'ports'],
});

/** `MessageEventSource? source = null`. */
function toSource(value: unknown): MessageEventSource | null {
  if (value === undefined || value === null) return null;
  if (value instanceof MessagePort) return value;
  throw new TypeError('MessageEventInit.source is not a MessagePort');
}

/** `sequence<MessagePort> ports = []`, exposed as a FrozenArray. */
function toPorts(value: unknown): readonly MessagePort[] {
  if (value === undefined) return Object.freeze([]);
  if (!isIterableObject(value)) throw new TypeError('MessageEventInit.ports is not iterable');
  const ports = Array.from(value, (port, index) => {
    if (port instanceof MessagePort) return port;
    throw new TypeError(`MessageEventInit.ports[${index}] is not a MessagePort`);
  });
  return Object.freeze(ports);
}
