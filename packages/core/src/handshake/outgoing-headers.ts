import { isToken, parseExtensionOffers } from './header-tokens.js';

/** Extra header fields for a request or response we write; an array writes one line per value. */
export type OutgoingHeaders = Readonly<Record<string, string | readonly string[]>>;

/**
 * Whether `value` may be written as a field value. RFC 7230 §3.2: field-content = field-vchar
 * [ 1*( SP / HTAB ) field-vchar ]. CR and LF are what matter: one of them in a value ends the
 * line and lets the value inject header fields or a whole response (response splitting). Only
 * US-ASCII is accepted ("Newly defined header fields SHOULD limit their field values to US-ASCII
 * octets", RFC 7230 §3.2.4), so the head reads the same whichever encoding writes it.
 */
export function isValidHeaderValue(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code === 0x09) continue;
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

/** Throws `TypeError` (naming `argumentName`) unless `value` is a safe field value. */
export function assertHeaderValue(value: string, description: string, argumentName: string): void {
  if (!isValidHeaderValue(value)) {
    throw new TypeError(`The "${argumentName}" argument: ${description} contains a character not allowed in a header field value (CR, LF, other controls or non-ASCII)`);
  }
}

/**
 * Formats extra header fields as `Name: value\r\n` lines, after checking that every name is a
 * token and every value is safe. Names in `reservedNames` (lower-case) are written by the
 * caller itself, so the extra fields may not repeat or contradict them.
 */
export function formatHeaderFields(
  headers: OutgoingHeaders | undefined,
  reservedNames: ReadonlySet<string>,
  argumentName: string,
): string {
  if (headers === undefined) return '';
  let lines = '';
  for (const name of Object.keys(headers)) {
    if (!isToken(name)) {
      throw new TypeError(`The "${argumentName}" argument: header name ${JSON.stringify(name)} is not a token`);
    }
    if (reservedNames.has(name.toLowerCase())) {
      throw new TypeError(`The "${argumentName}" argument: header ${name} is written by the handshake itself`);
    }
    const value = headers[name];
    const values: readonly string[] = typeof value === 'string' ? [value] : (value ?? []);
    for (const item of values) {
      if (typeof item !== 'string') {
        throw new TypeError(`The "${argumentName}" argument: header ${name} has a value that is not a string`);
      }
      assertHeaderValue(item, `Header ${name}`, argumentName);
      lines += `${name}: ${item}\r\n`;
    }
  }
  return lines;
}

/**
 * The `Sec-WebSocket-Extensions` line of a request or response we write ('' for none), after
 * checking that the value is safe and parses as RFC 6455 §9.1 extension offers: a value the
 * peer cannot parse would fail its handshake, so it is our caller's mistake, reported as such.
 */
export function extensionsHeaderLine(extensions: string | undefined): string {
  if (extensions === undefined || extensions === '') return '';
  assertHeaderValue(extensions, 'The extensions value', 'extensions');
  try {
    parseExtensionOffers(extensions);
  } catch (error) {
    throw new TypeError(`The "extensions" argument does not parse: ${(error as Error).message}`);
  }
  return `Sec-WebSocket-Extensions: ${extensions}\r\n`;
}
