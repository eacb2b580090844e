import { CloseCode } from '@ws/core';
import { defineInterface } from './whatwg/define-interface.js';
import { toCloseInfo, type WebSocketCloseInfo } from './whatwg/to-close-info.js';
import { validateCloseCodeAndReason } from './whatwg/validate-close-code-and-reason.js';
import { toDomString } from './whatwg/webidl-conversions.js';

/**
 * A close code and reason that came from the connection, handed to the next constructor call:
 * the constructor validates what an application passes, and would refuse 1006.
 */
let closeFromConnection: { readonly closeCode: number | null; readonly reason: string } | undefined;

/**
 * The `WebSocketError` of the WebSocketStream proposal (https://github.com/whatwg/websockets/pull/48),
 * as Chromium ships it: a DOMException named "WebSocketError" with the close code and reason.
 * `WebSocketStream` rejects `opened` and `closed`, and errors its streams, with one; passed to
 * `writable.abort()` or `readable.cancel()`, its `closeCode` and `reason` are what the close
 * frame carries.
 */
export class WebSocketError extends DOMException {
  readonly #closeCode: number | null;
  readonly #reason: string;

  /** `constructor(optional DOMString message = "", optional WebSocketCloseInfo init = {})`. */
  constructor(message?: string, init?: WebSocketCloseInfo) {
    const fromConnection = closeFromConnection;
    closeFromConnection = undefined;
    const messageValue = message === undefined ? '' : toDomString(message);
    let closeCode: number | null;
    let reason: string;
    if (fromConnection !== undefined) {
      ({ closeCode, reason } = fromConnection);
    } else {
      const info = toCloseInfo(init, 'WebSocketError constructor: init');
      validateCloseCodeAndReason(info.closeCode, info.reason);
      reason = info.reason;
      // "If reason is non-empty, but code is not set, then set code to 1000 ("Normal Closure")."
      closeCode = info.closeCode ?? (reason === '' ? null : CloseCode.Normal);
    }
    super(messageValue, 'WebSocketError');
    this.#closeCode = closeCode;
    this.#reason = reason;
  }

  /** The close code: null when there was none (a failed handshake). */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  get reason(): string {
    return this.#reason;
  }
}

defineInterface(WebSocketError, { name: 'WebSocketError', length: 0, attributes: ['closeCode', 'reason'] });

/**
 * The error a connection that ended uncleanly reports: its close code (1006 when no close frame
 * came, which the constructor rejects) and reason, and what caused it as `cause` (a
 * `HandshakeError`, a `ProtocolError`).
 */
export function createWebSocketError(message: string, closeCode: number | null, reason: string, cause?: unknown): WebSocketError {
  closeFromConnection = { closeCode, reason };
  const error = new WebSocketError(message);
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
  return error;
}
