import { defineInterface } from './whatwg/define-interface.js';
import {
  type EventInit,
  requireArguments,
  toBoolean,
  toDictionary,
  toDomString,
  toEventInit,
  toUnsignedShort,
  toUsvString,
} from './whatwg/webidl-conversions.js';

export interface CloseEventInit extends EventInit {
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

/**
 * The WHATWG `CloseEvent` (https://websockets.spec.whatwg.org/#the-closeevent-interface), which
 * Node 20 does not provide as a global:
 * `constructor(DOMString type, optional CloseEventInit eventInitDict = {})`.
 */
export class CloseEvent extends Event {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, eventInitDict?: CloseEventInit) {
    requireArguments(arguments.length, 1, 'CloseEvent constructor');
    const eventType = toDomString(type);
    const init = toDictionary(eventInitDict, 'CloseEvent constructor: eventInitDict');
    const eventInit = toEventInit(init);
    // A dictionary's members are converted in lexicographic order: code, reason, wasClean.
    const code = init['code'];
    const codeValue = code === undefined ? 0 : toUnsignedShort(code, 'CloseEventInit.code');
    const reason = init['reason'];
    const reasonValue = reason === undefined ? '' : toUsvString(reason);
    const wasClean = toBoolean(init['wasClean']);
    super(eventType, eventInit);
    this.#code = codeValue;
    this.#reason = reasonValue;
    this.#wasClean = wasClean;
  }

  /** Whether the closing handshake completed (a close frame went each way). */
  get wasClean(): boolean {
    return this.#wasClean;
  }

  /** The close code: the server's, 1005 when its close frame had none, 1006 when none came. */
  get code(): number {
    return this.#code;
  }

  get reason(): string {
    return this.#reason;
  }
}

defineInterface(CloseEvent, { name: 'CloseEvent', length: 1, attributes: ['wasClean', 'code', 'reason'] });
