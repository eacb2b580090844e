export interface CloseEventInit {
  readonly bubbles?: boolean;
  readonly cancelable?: boolean;
  readonly composed?: boolean;
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

/**
 * The WHATWG `CloseEvent` (https://websockets.spec.whatwg.org/#the-closeevent-interface), which
 * Node 20 does not provide as a global.
 */
export class CloseEvent extends Event {
  readonly #code: number;
  readonly #reason: string;
  readonly #wasClean: boolean;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#code = init.code ?? 0;
    this.#reason = init.reason ?? '';
    this.#wasClean = init.wasClean ?? false;
  }

  /** The close code: the server's, 1005 when its close frame had none, 1006 when none came. */
  get code(): number {
    return this.#code;
  }

  get reason(): string {
    return this.#reason;
  }

  /** Whether the closing handshake completed (a close frame went each way). */
  get wasClean(): boolean {
    return this.#wasClean;
  }
}
