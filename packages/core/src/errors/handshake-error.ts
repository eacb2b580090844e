import type { HandshakeErrorCode } from './error-code.js';
import { HandshakeErrorCode as statusByCode } from './error-code.js';

/**
 * The opening handshake failed. A server answers with `status` (and `headers`); a client's
 * connect rejects with it, `status` then being the HTTP status the server answered (0 when no
 * response arrived).
 */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
  readonly code: HandshakeErrorCode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: HandshakeErrorCode,
    message: string,
    options: { status?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? statusByCode[code];
    this.headers = options.headers ?? {};
  }
}
