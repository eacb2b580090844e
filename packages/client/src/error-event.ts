import { defineInterface } from './whatwg/define-interface.js';
import {
  type EventInit,
  requireArguments,
  toDictionary,
  toDomString,
  toEventInit,
  toUnsignedLong,
  toUsvString,
} from './whatwg/webidl-conversions.js';

export interface ErrorEventInit extends EventInit {
  readonly message?: string;
  readonly filename?: string;
  readonly lineno?: number;
  readonly colno?: number;
  readonly error?: unknown;
}

/**
 * HTML's `ErrorEvent` (https://html.spec.whatwg.org/multipage/webappapis.html#errorevent), the
 * `error` event of a `WebSocket`. Browsers fire a plain `Event` there; this one also carries what
 * went wrong (as Node's built-in WebSocket does): a `HandshakeError`, a `ProtocolError`, or the
 * reason the connection closed abnormally.
 */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #filename: string;
  readonly #lineno: number;
  readonly #colno: number;
  readonly #error: unknown;

  constructor(type: string, eventInitDict?: ErrorEventInit) {
    requireArguments(arguments.length, 1, 'ErrorEvent constructor');
    const eventType = toDomString(type);
    const init = toDictionary(eventInitDict, 'ErrorEvent constructor: eventInitDict');
    const eventInit = toEventInit(init);
    // A dictionary's members are converted in lexicographic order.
    const colno = init['colno'];
    const colnoValue = colno === undefined ? 0 : toUnsignedLong(colno, 'ErrorEventInit.colno');
    // `any error;` has no default: an absent (undefined) member leaves the attribute at null.
    const error = init['error'] ?? null;
    const filename = init['filename'];
    const filenameValue = filename === undefined ? '' : toUsvString(filename);
    const lineno = init['lineno'];
    const linenoValue = lineno === undefined ? 0 : toUnsignedLong(lineno, 'ErrorEventInit.lineno');
    const message = init['message'];
    const messageValue = message === undefined ? '' : toDomString(message);
    super(eventType, eventInit);
    this.#colno = colnoValue;
    this.#error = error;
    this.#filename = filenameValue;
    this.#lineno = linenoValue;
    this.#message = messageValue;
  }

  get message(): string {
    return this.#message;
  }

  get filename(): string {
    return this.#filename;
  }

  get lineno(): number {
    return this.#lineno;
  }

  get colno(): number {
    return this.#colno;
  }

  /** What went wrong: a `HandshakeError`, a `ProtocolError`, an `Error` for an abnormal close. */
  get error(): unknown {
    return this.#error;
  }
}

defineInterface(ErrorEvent, {
  name: 'ErrorEvent',
  length: 1,
  attributes: ['message', 'filename', 'lineno', 'colno', 'error'],
});
