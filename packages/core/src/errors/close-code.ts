/** Close status codes, RFC 6455 §7.4.1 and the IANA "WebSocket Close Code Number Registry". */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: never sent on the wire; reported locally when a close frame had no status code. */
  NoStatusReceived: 1005,
  /** Reserved: never sent on the wire; reported locally when the connection closed without a close frame. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  TooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved: never sent on the wire; reported locally when the TLS handshake failed. */
  TlsHandshake: 1015,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Whether a status code may appear in a close frame, sent or received.
 *
 * RFC 6455 §7.4.1 reserves 1004, 1005, 1006 and 1015 (1004 "Reserved", the other three "MUST NOT
 * be set as a status code in a Close control frame by an endpoint"); §7.4.2 says codes below 1000
 * are not used, 1000-2999 are reserved for the protocol and its extensions (only the registered
 * ones are meaningful), 3000-3999 are registered with IANA and 4000-4999 are for private use.
 * Anything else in a received close frame is a protocol error (1002).
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}
