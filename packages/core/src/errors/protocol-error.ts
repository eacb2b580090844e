import { ProtocolErrorCode } from './error-code.js';

/**
 * A peer broke RFC 6455 (or RFC 7692). Never thrown from `receiveData`: the protocol records
 * it, fails the connection with `closeCode`, and reports it as an event.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  /** The close code sent to the peer (1006 where none could be sent). */
  readonly closeCode: number;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
    this.closeCode = closeCodeForError(code);
  }
}

/** The one mapping from a protocol error code to the close code that reports it. */
export function closeCodeForError(code: ProtocolErrorCode): number {
  return ProtocolErrorCode[code];
}
