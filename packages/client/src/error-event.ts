export interface ErrorEventInit {
  readonly bubbles?: boolean;
  readonly cancelable?: boolean;
  readonly composed?: boolean;
  readonly message?: string;
  readonly error?: unknown;
}

/**
 * The `error` event of a `WebSocket`. Browsers fire a plain `Event`; this one also carries what
 * went wrong (as Node's built-in WebSocket does): a `HandshakeError`, a `ProtocolError`, or
 * the reason the connection closed abnormally.
 */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #error: unknown;

  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#message = init.message ?? '';
    this.#error = init.error;
  }

  get message(): string {
    return this.#message;
  }

  get error(): unknown {
    return this.#error;
  }
}
