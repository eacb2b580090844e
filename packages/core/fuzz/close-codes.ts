/**
 * RFC 6455 §7.4: the status codes an endpoint may put in a close frame it sends. §7.4.1 defines
 * 1000-1003 and 1007-1011 for endpoints to send and says 1005, 1006 and 1015 "MUST NOT be set as
 * a status code in a Close control frame by an endpoint" (1004 is "Reserved"); §7.4.2 gives
 * 3000-3999 to registered uses and 4000-4999 to private use.
 */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

/**
 * 1012-1014 (Service Restart, Try Again Later, Bad Gateway) are not in RFC 6455 but in the IANA
 * "WebSocket Close Code Number Registry" it created (§11.7), which `isValidCloseCode` accepts:
 * an engine receiving one "typically echos the status code it received" (§5.5.1). Sending one
 * is allowed only as that echo.
 */
export function isRegisteredEchoCode(code: number): boolean {
  return code >= 1012 && code <= 1014;
}

/**
 * The codes a failure is reported with: 1002 protocol error, 1007 invalid payload, 1008 policy,
 * 1009 too big, 1011 internal error. A failure with any other code is a wrong mapping.
 */
export const FAILURE_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1007, 1008, 1009, 1011]);
