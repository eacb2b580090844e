import { HandshakeError } from '../errors/handshake-error.js';

/**
 * RFC 7230 header-value parsing for the opening handshake.
 *
 * Every parser here is a hand-written scanner that looks at each character once: header values
 * come from the peer, and a backtracking regular expression over them is a denial of service
 * (ws's CVE-2021-32640 was a quadratic regex over Sec-WebSocket-Protocol).
 *
 * Malformed input throws a `HandshakeError` with code `WS_ERR_HANDSHAKE_HEADER` (status 400), so
 * a server can answer it as it is; a client rethrows it under the code of the check it was doing.
 * They throw rather than return a result because no caller can recover: a malformed handshake
 * header ends the handshake, so every caller would only rethrow.
 */

/** One offer (request) or acceptance (response) in a `Sec-WebSocket-Extensions` value. */
export interface ExtensionOffer {
  /** The extension token, e.g. `permessage-deflate`, as received. */
  name: string;
  /** Parameters in the order received; a parameter without a value maps to `true`. */
  params: Map<string, string | true>;
  /**
   * Names of parameters that appeared more than once in this offer, once per extra appearance
   * (`params` keeps the first value). Only set by `parseExtensionOffers` with `markRepeatedParams`, as a server parses a
   * request: such an offer is to be declined, not the handshake failed.
   */
  repeatedParams?: string[];
}

export interface ExtensionOffersParseOptions {
  /**
   * Record a parameter repeated in one offer in `repeatedParams` instead of throwing. RFC 7692
   * §7: "A server MUST decline an extension negotiation offer for this extension if ... The
   * negotiation offer contains multiple extension parameters with the same name": the offer is
   * declined and the handshake goes on without it. A client receiving such a response "MUST
   * _Fail the WebSocket Connection_", so the default (false) throws.
   */
  markRepeatedParams?: boolean;
}

const TAB = 0x09;
const SPACE = 0x20;
const DOUBLE_QUOTE = 0x22;
const COMMA = 0x2c;
const SLASH = 0x2f;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

/**
 * RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
 * "_" / "`" / "|" / "~" / DIGIT / ALPHA. Indexed by char code; codes above 127 are never tchar.
 */
const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128);
  for (const char of "!#$%&'*+-.^_`|~") table[char.charCodeAt(0)] = 1;
  for (let code = 0x30; code <= 0x39; code++) table[code] = 1;
  for (let code = 0x41; code <= 0x5a; code++) table[code] = 1;
  for (let code = 0x61; code <= 0x7a; code++) table[code] = 1;
  return table;
})();

function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHARS[code] === 1;
}

/** Whether `value` is an RFC 7230 token (`1*tchar`). */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let index = 0; index < value.length; index++) {
    if (!isTokenChar(value.charCodeAt(index))) return false;
  }
  return true;
}

function malformed(fieldName: string, value: string, index: number, expected: string): HandshakeError {
  // The value itself is left out of the message: it is the peer's, and may be 64 KiB long.
  const found = index < value.length ? `character 0x${value.charCodeAt(index).toString(16)}` : 'end of value';
  return new HandshakeError(
    'WS_ERR_HANDSHAKE_HEADER',
    `Invalid ${fieldName} header: expected ${expected} at index ${index}, found ${found}`,
  );
}

/** RFC 7230 §3.2.3: OWS = *( SP / HTAB ). Returns the index of the first other character. */
function skipWhitespace(value: string, index: number): number {
  while (index < value.length) {
    const code = value.charCodeAt(index);
    if (code !== SPACE && code !== TAB) break;
    index++;
  }
  return index;
}

/** Returns the index just past the token that starts at `index` (== `index` when none does). */
function scanToken(value: string, index: number): number {
  while (index < value.length && isTokenChar(value.charCodeAt(index))) index++;
  return index;
}

/**
 * The list scanner shared by `parseTokenList` and `parseUpgradeList`. RFC 7230 §7: "a recipient
 * MUST parse and ignore a reasonable number of empty list elements"; "a recipient MUST accept
 * lists that satisfy the following syntax": `#element => [ ( "," / element ) *( OWS "," [ OWS
 * element ] ) ]`, so leading, trailing and repeated commas are skipped, and OWS surrounds commas.
 */
function scanList(value: string, fieldName: string, allowVersion: boolean): string[] {
  const elements: string[] = [];
  let index = 0;
  while (true) {
    index = skipWhitespace(value, index);
    if (index >= value.length) return elements;
    if (value.charCodeAt(index) === COMMA) {
      index++;
      continue;
    }
    const start = index;
    index = scanToken(value, index);
    if (index === start) throw malformed(fieldName, value, index, 'a token');
    // RFC 7230 §6.7: protocol = protocol-name ["/" protocol-version], both tokens.
    if (allowVersion && value.charCodeAt(index) === SLASH) {
      const versionStart = index + 1;
      index = scanToken(value, versionStart);
      if (index === versionStart) throw malformed(fieldName, value, index, 'a protocol version token');
    }
    elements.push(value.slice(start, index));
    index = skipWhitespace(value, index);
    if (index < value.length && value.charCodeAt(index) !== COMMA) {
      throw malformed(fieldName, value, index, '"," or end of value');
    }
  }
}

/**
 * Parses a comma-separated list of tokens (RFC 7230 `#token`), as in Connection and
 * Sec-WebSocket-Protocol. Empty elements are skipped; the tokens are returned as received
 * (case and duplicates kept). Throws `HandshakeError` `WS_ERR_HANDSHAKE_HEADER` on anything
 * else, e.g. a space inside an element (`a b`) or a non-ASCII character.
 */
export function parseTokenList(value: string, fieldName = 'header'): string[] {
  return scanList(value, fieldName, false);
}

/**
 * Parses an Upgrade value: RFC 7230 §6.7 `Upgrade = 1#protocol`, `protocol = protocol-name
 * ["/" protocol-version]`. Each element is returned as received, e.g. `websocket` or `HTTP/2.0`.
 * Throws like `parseTokenList`.
 */
export function parseUpgradeList(value: string, fieldName = 'Upgrade'): string[] {
  return scanList(value, fieldName, true);
}

/**
 * Reads the quoted-string that starts at `value[index]` (a DQUOTE) and returns its unescaped
 * content and the index past the closing DQUOTE.
 *
 * RFC 7230 §3.2.6: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, quoted-pair = "\"
 * ( HTAB / SP / VCHAR / obs-text ). RFC 6455 §9.1 adds: "When using the quoted-string syntax
 * variant, the value after quoted-string unescaping MUST conform to the 'token' ABNF." So the
 * only characters that can appear, escaped or not, are tchar; anything else is rejected here.
 */
function scanQuotedToken(value: string, index: number, fieldName: string): { text: string; end: number } {
  let text = '';
  let segmentStart = index + 1;
  index++;
  while (index < value.length) {
    const code = value.charCodeAt(index);
    if (code === DOUBLE_QUOTE) {
      text += value.slice(segmentStart, index);
      if (text.length === 0) throw malformed(fieldName, value, index, 'a token inside the quoted-string');
      return { text, end: index + 1 };
    }
    if (code === BACKSLASH) {
      text += value.slice(segmentStart, index);
      index++;
      if (index >= value.length || !isTokenChar(value.charCodeAt(index))) {
        throw malformed(fieldName, value, index, 'an escaped token character');
      }
      segmentStart = index;
    } else if (!isTokenChar(code)) {
      throw malformed(fieldName, value, index, 'a token character or closing quote');
    }
    index++;
  }
  throw malformed(fieldName, value, index, 'a closing quote');
}

/**
 * Parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1):
 *
 *     extension-list = 1#extension
 *     extension = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * RFC 6455 §9.1 uses RFC 2616's "implied *LWS" rule, so OWS is allowed around ",", ";" and "=".
 * Empty list elements are skipped (RFC 7230 §7); quoted values are unescaped. A parameter that
 * appears twice in one offer is an error, as no extension can tell which one was meant, unless
 * `options.markRepeatedParams` asks to record it in the offer's `repeatedParams` (RFC 7692 §7
 * lists "multiple extension parameters with the same name" among the offers a server MUST
 * decline, which is not a reason to fail the handshake). Throws `HandshakeError`
 * `WS_ERR_HANDSHAKE_HEADER` on any violation.
 */
export function parseExtensionOffers(
  value: string,
  fieldName = 'Sec-WebSocket-Extensions',
  options: ExtensionOffersParseOptions = {},
): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  let index = 0;
  while (true) {
    index = skipWhitespace(value, index);
    if (index >= value.length) return offers;
    if (value.charCodeAt(index) === COMMA) {
      index++;
      continue;
    }
    const nameStart = index;
    index = scanToken(value, index);
    if (index === nameStart) throw malformed(fieldName, value, index, 'an extension token');
    const offer: ExtensionOffer = { name: value.slice(nameStart, index), params: new Map() };
    index = skipWhitespace(value, index);
    while (value.charCodeAt(index) === SEMICOLON) {
      index = skipWhitespace(value, index + 1);
      const paramStart = index;
      index = scanToken(value, index);
      if (index === paramStart) throw malformed(fieldName, value, index, 'a parameter name');
      const paramName = value.slice(paramStart, index);
      let paramValue: string | true = true;
      index = skipWhitespace(value, index);
      if (value.charCodeAt(index) === EQUALS) {
        index = skipWhitespace(value, index + 1);
        if (value.charCodeAt(index) === DOUBLE_QUOTE) {
          const quoted = scanQuotedToken(value, index, fieldName);
          paramValue = quoted.text;
          index = quoted.end;
        } else {
          const valueStart = index;
          index = scanToken(value, index);
          if (index === valueStart) throw malformed(fieldName, value, index, 'a parameter value');
          paramValue = value.slice(valueStart, index);
        }
        index = skipWhitespace(value, index);
      }
      if (offer.params.has(paramName)) {
        if (options.markRepeatedParams === true) {
          (offer.repeatedParams ??= []).push(paramName);
          continue;
        }
        throw new HandshakeError(
          'WS_ERR_HANDSHAKE_HEADER',
          `Invalid ${fieldName} header: parameter "${paramName}" repeated in one "${offer.name}" offer`,
        );
      }
      offer.params.set(paramName, paramValue);
    }
    offers.push(offer);
    if (index < value.length && value.charCodeAt(index) !== COMMA) {
      throw malformed(fieldName, value, index, '";", "," or end of value');
    }
  }
}

/**
 * Formats offers as a Sec-WebSocket-Extensions value, the inverse of `parseExtensionOffers`:
 * `name; param=value; flag, other`. Values are always tokens (RFC 6455 §9.1 requires the
 * unescaped value to be one), so nothing is ever quoted. Throws `TypeError` for a name
 * or value that is not a token: this is our own output, so a bad one is a programmer error.
 */
export function formatExtensionOffers(
  offers: readonly { readonly name: string; readonly params: ReadonlyMap<string, string | true> }[],
): string {
  const parts: string[] = [];
  for (const offer of offers) {
    if (!isToken(offer.name)) {
      throw new TypeError(`The "extensions" argument: extension name ${JSON.stringify(offer.name)} is not a token`);
    }
    let part = offer.name;
    for (const [name, value] of offer.params) {
      if (!isToken(name)) {
        throw new TypeError(`The "extensions" argument: extension parameter ${JSON.stringify(name)} is not a token`);
      }
      if (value === true) {
        part += `; ${name}`;
        continue;
      }
      if (!isToken(value)) {
        throw new TypeError(`The "extensions" argument: value ${JSON.stringify(value)} of extension parameter ${name} is not a token`);
      }
      part += `; ${name}=${value}`;
    }
    parts.push(part);
  }
  return parts.join(', ');
}
