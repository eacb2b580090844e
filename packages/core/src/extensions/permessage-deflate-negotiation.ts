import { HandshakeError } from '../errors/handshake-error.js';
import { type ExtensionOffer, formatExtensionOffers } from '../handshake/header-tokens.js';
import { MAX_DEFLATE_WINDOW_BITS, MIN_DEFLATE_WINDOW_BITS, PerMessageDeflate } from './permessage-deflate.js';

/**
 * Negotiation of permessage-deflate (RFC 7692 §7) on values: a server picks an offer from the
 * parsed request header and gets its response value plus the extension; a client formats its
 * offer and turns the server's response into the extension or a `HandshakeError`.
 */

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

const SERVER_NO_CONTEXT_TAKEOVER = 'server_no_context_takeover';
const CLIENT_NO_CONTEXT_TAKEOVER = 'client_no_context_takeover';
const SERVER_MAX_WINDOW_BITS = 'server_max_window_bits';
const CLIENT_MAX_WINDOW_BITS = 'client_max_window_bits';

/** Compression settings, the same on both sides. */
export interface PerMessageDeflateOptions {
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  readonly threshold?: number;
  /** zlib compression level 0..9. Default 1 (fastest; see DEFAULT_DEFLATE_LEVEL). */
  readonly level?: number;
  /** zlib memory level 1..9. Default 8. */
  readonly memLevel?: number;
}

/** A server's policy: what it accepts and what it asks of the client. */
export interface PerMessageDeflateServerOptions extends PerMessageDeflateOptions {
  /**
   * Compress every message sent with an empty window, answering `server_no_context_takeover`
   * even when not asked (RFC 7692 §7.1.1.1: "A server MAY include the
   * "server_no_context_takeover" extension parameter in an extension negotiation response even
   * if the extension negotiation offer being accepted by the extension negotiation response
   * didn't include the "server_no_context_takeover" extension parameter."). Default true: an
   * idle connection then holds no deflate memory (about 256 KiB each otherwise) and broadcasts
   * can be compressed once for all. When the client asks for it, it is answered regardless.
   */
  readonly serverNoContextTakeover?: boolean;
  /**
   * Ask the client to compress every message with an empty window, answering
   * `client_no_context_takeover` even when not offered (§7.1.1.2: "A server MAY include the
   * "client_no_context_takeover" extension parameter in an extension negotiation response"), so
   * that an idle connection holds no inflate memory. Default false. When the client offers it,
   * it is answered regardless: it costs nothing, the client having said it will not use context
   * takeover, and lets the server free its inflater between messages.
   */
  readonly clientNoContextTakeover?: boolean;
  /**
   * The largest window the server compresses with, 9..15 (zlib cannot compress with 8). Default
   * 15. Sent as `server_max_window_bits` when below 15 or when the client offered a limit.
   */
  readonly serverMaxWindowBits?: number;
  /**
   * The largest window the client may compress with, 8..15, bounding the server's inflate
   * memory. Default 15. Below 15, an offer without `client_max_window_bits` is declined, since
   * the response to it "MUST NOT include the "client_max_window_bits" extension parameter"
   * (§7.1.2.2) and the limit could not be asked for.
   */
  readonly clientMaxWindowBits?: number;
}

/** A client's offer: what it asks of the server and what it announces about itself. */
export interface PerMessageDeflateClientOptions extends PerMessageDeflateOptions {
  /** Ask the server to compress every message with an empty window. Default false. */
  readonly serverNoContextTakeover?: boolean;
  /** Announce, and keep to, compressing every message with an empty window. Default false. */
  readonly clientNoContextTakeover?: boolean;
  /** Ask the server to compress with a window of at most 2^bits bytes, 8..15. Default: no limit. */
  readonly serverMaxWindowBits?: number;
  /**
   * Announce, and keep to, compressing with a window of at most 2^bits bytes, 9..15. Default: no
   * limit. `client_max_window_bits` is offered in any case, without a value when this is unset,
   * so that a server may limit the client's window (§7.1.2.2).
   */
  readonly clientMaxWindowBits?: number;
}

/** What the server answers and the extension to hand to its protocol. */
export interface PerMessageDeflateAcceptance {
  /** The `Sec-WebSocket-Extensions` response element, e.g. `permessage-deflate; server_no_context_takeover`. */
  readonly response: string;
  /** The accepted offer's element in the response, as parsed values (to combine with other extensions). */
  readonly responseOffer: ExtensionOffer;
  readonly extension: PerMessageDeflate;
}

function checkWindowBitsOption(value: number | undefined, min: number, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > MAX_DEFLATE_WINDOW_BITS) {
    throw new RangeError(`${name} must be an integer from ${min} to ${MAX_DEFLATE_WINDOW_BITS}, not ${value}`);
  }
  return value;
}

/**
 * A window bits value as RFC 7692 §7.1.2.1 and §7.1.2.2 define it: "a decimal integer value
 * without leading zeroes between 8 to 15", inclusive (`1*DIGIT`). Undefined when it is not one.
 */
function parseWindowBits(value: string | true): number | undefined {
  if (value === true || value.length > 2 || !/^[1-9][0-9]*$/.test(value)) return undefined;
  const bits = Number(value);
  return bits >= MIN_DEFLATE_WINDOW_BITS && bits <= MAX_DEFLATE_WINDOW_BITS ? bits : undefined;
}

/** The parameters of one offer, or undefined when RFC 7692 §7 has the server decline it. */
interface OfferedParameters {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** False when `client_max_window_bits` was not offered, true when offered without a value. */
  clientMaxWindowBits: number | boolean;
}

/**
 * RFC 7692 §7: "A server MUST decline an extension negotiation offer for this extension if any
 * of the following conditions are met: o The negotiation offer contains an extension parameter
 * not defined for use in an offer. o The negotiation offer contains an extension parameter with
 * an invalid value. o The negotiation offer contains multiple extension parameters with the
 * same name. o The server doesn't support the offered configuration." This checks the first
 * three.
 */
function readOffer(offer: ExtensionOffer): OfferedParameters | undefined {
  if (offer.repeatedParams !== undefined && offer.repeatedParams.length > 0) return undefined;
  const offered: OfferedParameters = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: false,
  };
  for (const [name, value] of offer.params) {
    switch (name) {
      // §7.1.1.1 and §7.1.1.2: "This extension parameter has no value."
      case SERVER_NO_CONTEXT_TAKEOVER:
        if (value !== true) return undefined;
        offered.serverNoContextTakeover = true;
        break;
      case CLIENT_NO_CONTEXT_TAKEOVER:
        if (value !== true) return undefined;
        offered.clientNoContextTakeover = true;
        break;
      // §7.1.2.1: in an offer it "has a decimal integer value without leading zeroes between 8 to 15".
      case SERVER_MAX_WINDOW_BITS: {
        const bits = parseWindowBits(value);
        if (bits === undefined) return undefined;
        offered.serverMaxWindowBits = bits;
        break;
      }
      // §7.1.2.2: in an offer it "has no value or a decimal integer value without leading zeroes between 8 to 15".
      case CLIENT_MAX_WINDOW_BITS: {
        if (value === true) {
          offered.clientMaxWindowBits = true;
          break;
        }
        const bits = parseWindowBits(value);
        if (bits === undefined) return undefined;
        offered.clientMaxWindowBits = bits;
        break;
      }
      default:
        return undefined;
    }
  }
  return offered;
}

/**
 * Picks the first acceptable permessage-deflate offer from a request's parsed
 * `Sec-WebSocket-Extensions` (RFC 7692 §5: "The order of elements is important as it specifies
 * the client's preference"), and returns the response element and the extension for it.
 * Undefined when no offer is acceptable: the server then declines by leaving permessage-deflate
 * out of its response, and the connection proceeds uncompressed (§5: "If a server responds with
 * no PMCE element in the "Sec-WebSocket-Extensions" header, both endpoints proceed without
 * per-message compression once _the WebSocket Connection is established_."). Offers of other
 * extensions are skipped. Throws `TypeError`/`RangeError` for invalid options.
 */
export function acceptPerMessageDeflate(
  offers: readonly ExtensionOffer[],
  options: PerMessageDeflateServerOptions = {},
): PerMessageDeflateAcceptance | undefined {
  const serverLimit = checkWindowBitsOption(options.serverMaxWindowBits, MIN_DEFLATE_WINDOW_BITS + 1, 'serverMaxWindowBits');
  const clientLimit = checkWindowBitsOption(options.clientMaxWindowBits, MIN_DEFLATE_WINDOW_BITS, 'clientMaxWindowBits');
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const offered = readOffer(offer);
    if (offered === undefined) continue;

    // §7.1.2.1: "A server accepts an extension negotiation offer with this parameter by
    // including the "server_max_window_bits" extension parameter in the extension negotiation
    // response to send back to the client with the same or smaller value as the offer." and
    // "A server MAY include the "server_max_window_bits" extension parameter in an extension
    // negotiation response even if the extension negotiation offer being accepted by the
    // response didn't include" it. zlib cannot compress with an 8-bit window, so an offer that
    // leaves only 8 is one the server "doesn't support" (§7), and §7.1.2.1: "A server declines an
    // extension negotiation offer with this parameter if the server doesn't support it."
    const serverBits = Math.min(offered.serverMaxWindowBits ?? MAX_DEFLATE_WINDOW_BITS, serverLimit ?? MAX_DEFLATE_WINDOW_BITS);
    if (serverBits === MIN_DEFLATE_WINDOW_BITS) continue;
    const answerServerBits = offered.serverMaxWindowBits !== undefined || serverBits < MAX_DEFLATE_WINDOW_BITS;

    // §7.1.2.2: "If a received extension negotiation offer doesn't have the
    // "client_max_window_bits" extension parameter, the corresponding extension negotiation
    // response to the offer MUST NOT include the "client_max_window_bits" extension parameter."
    // With it, the server answers "with a value equal to or smaller than the received value".
    let clientBits: number = MAX_DEFLATE_WINDOW_BITS;
    if (offered.clientMaxWindowBits === false) {
      if (clientLimit !== undefined && clientLimit < MAX_DEFLATE_WINDOW_BITS) continue;
    } else {
      const offeredBits = offered.clientMaxWindowBits === true ? MAX_DEFLATE_WINDOW_BITS : offered.clientMaxWindowBits;
      clientBits = Math.min(offeredBits, clientLimit ?? MAX_DEFLATE_WINDOW_BITS);
    }

    // §7.1.1.1: "A server accepts an extension negotiation offer that includes the
    // "server_no_context_takeover" extension parameter by including the
    // "server_no_context_takeover" extension parameter in the corresponding extension
    // negotiation response".
    const serverNoContextTakeover = offered.serverNoContextTakeover || (options.serverNoContextTakeover ?? true);
    // §7.1.1.2: when the offer has it, "the server may either ignore the parameter or use the
    // parameter to avoid taking over the LZ77 sliding window unnecessarily by including the
    // "client_no_context_takeover" extension parameter in the corresponding extension negotiation response".
    const clientNoContextTakeover = offered.clientNoContextTakeover || (options.clientNoContextTakeover ?? false);

    const params = new Map<string, string | true>();
    if (serverNoContextTakeover) params.set(SERVER_NO_CONTEXT_TAKEOVER, true);
    if (clientNoContextTakeover) params.set(CLIENT_NO_CONTEXT_TAKEOVER, true);
    if (answerServerBits) params.set(SERVER_MAX_WINDOW_BITS, String(serverBits));
    if (offered.clientMaxWindowBits !== false) params.set(CLIENT_MAX_WINDOW_BITS, String(clientBits));
    const responseOffer: ExtensionOffer = { name: PERMESSAGE_DEFLATE, params };

    const extension = new PerMessageDeflate({
      compressNoContextTakeover: serverNoContextTakeover,
      decompressNoContextTakeover: clientNoContextTakeover,
      compressMaxWindowBits: serverBits,
      decompressMaxWindowBits: clientBits,
      threshold: options.threshold,
      level: options.level,
      memLevel: options.memLevel,
    });
    return { response: formatExtensionOffers([responseOffer]), responseOffer, extension };
  }
  return undefined;
}

/**
 * The client's `Sec-WebSocket-Extensions` offer for permessage-deflate, e.g.
 * `permessage-deflate; client_max_window_bits`. Throws `TypeError`/`RangeError` for invalid options.
 */
export function offerPerMessageDeflate(options: PerMessageDeflateClientOptions = {}): string {
  const serverLimit = checkWindowBitsOption(options.serverMaxWindowBits, MIN_DEFLATE_WINDOW_BITS, 'serverMaxWindowBits');
  const clientLimit = checkWindowBitsOption(options.clientMaxWindowBits, MIN_DEFLATE_WINDOW_BITS + 1, 'clientMaxWindowBits');
  const params = new Map<string, string | true>();
  if (options.serverNoContextTakeover === true) params.set(SERVER_NO_CONTEXT_TAKEOVER, true);
  if (options.clientNoContextTakeover === true) params.set(CLIENT_NO_CONTEXT_TAKEOVER, true);
  if (serverLimit !== undefined) params.set(SERVER_MAX_WINDOW_BITS, String(serverLimit));
  // §7.1.2.2: "By including this parameter in an offer, a client informs the peer server that
  // the client supports the "client_max_window_bits" extension parameter in an extension
  // negotiation response and, optionally, a hint by attaching a value to the parameter."
  params.set(CLIENT_MAX_WINDOW_BITS, clientLimit === undefined ? true : String(clientLimit));
  return formatExtensionOffers([{ name: PERMESSAGE_DEFLATE, params }]);
}

function invalidResponse(message: string): HandshakeError {
  return new HandshakeError('WS_ERR_HANDSHAKE_EXTENSION', `Invalid permessage-deflate response: ${message}`, {
    status: 101,
  });
}

/**
 * Checks the server's permessage-deflate response element against the offer that
 * `offerPerMessageDeflate(options)` made, and returns the extension for the client's protocol.
 *
 * RFC 7692 §7: "A client MUST _Fail the WebSocket Connection_ if the peer server accepted an
 * extension negotiation offer for this extension with an extension negotiation response meeting
 * any of the following conditions: o The negotiation response contains an extension parameter
 * not defined for use in a response. o The negotiation response contains an extension parameter
 * with an invalid value. o The negotiation response contains multiple extension parameters with
 * the same name. o The client does not support the configuration that the response represents."
 * Throws `HandshakeError` `WS_ERR_HANDSHAKE_EXTENSION` (status 101) for each.
 */
export function acceptPerMessageDeflateResponse(
  response: ExtensionOffer,
  options: PerMessageDeflateClientOptions = {},
): PerMessageDeflate {
  const serverLimit = checkWindowBitsOption(options.serverMaxWindowBits, MIN_DEFLATE_WINDOW_BITS, 'serverMaxWindowBits');
  const clientLimit = checkWindowBitsOption(options.clientMaxWindowBits, MIN_DEFLATE_WINDOW_BITS + 1, 'clientMaxWindowBits');
  if (response.name !== PERMESSAGE_DEFLATE) throw invalidResponse(`"${response.name}" is another extension`);
  if (response.repeatedParams !== undefined && response.repeatedParams.length > 0) {
    throw invalidResponse(`parameter "${response.repeatedParams[0]}" repeated`);
  }
  let serverNoContextTakeover = false;
  let clientNoContextTakeover = false;
  let serverBits: number | undefined;
  let clientBits: number | undefined;
  for (const [name, value] of response.params) {
    switch (name) {
      // §7.1.1.1: "The "server_no_context_takeover" extension parameter in an extension
      // negotiation response has no value."; the server may send it unasked.
      case SERVER_NO_CONTEXT_TAKEOVER:
        if (value !== true) throw invalidResponse(`${name} has a value`);
        serverNoContextTakeover = true;
        break;
      // §7.1.1.2: "A client MUST support the "client_no_context_takeover" extension parameter
      // in an extension negotiation response." It "has no value".
      case CLIENT_NO_CONTEXT_TAKEOVER:
        if (value !== true) throw invalidResponse(`${name} has a value`);
        clientNoContextTakeover = true;
        break;
      // §7.1.2.1: the response's value is "the same or smaller value as the offer".
      case SERVER_MAX_WINDOW_BITS: {
        serverBits = parseWindowBits(value);
        if (serverBits === undefined) throw invalidResponse(`${name} must be 8 to 15`);
        if (serverLimit !== undefined && serverBits > serverLimit) {
          throw invalidResponse(`${name}=${serverBits} exceeds the offered ${serverLimit}`);
        }
        break;
      }
      // §7.1.2.2: in a response it "has a decimal integer value without leading zeroes between
      // 8 to 15", "equal to or smaller than the received value". It was always offered.
      case CLIENT_MAX_WINDOW_BITS: {
        clientBits = parseWindowBits(value);
        if (clientBits === undefined) throw invalidResponse(`${name} must be 8 to 15`);
        if (clientLimit !== undefined && clientBits > clientLimit) {
          throw invalidResponse(`${name}=${clientBits} exceeds the offered ${clientLimit}`);
        }
        break;
      }
      default:
        throw invalidResponse(`unknown parameter "${name}"`);
    }
  }
  // An offer with server_no_context_takeover or server_max_window_bits is accepted by including
  // them (§7.1.1.1, §7.1.2.1); a response without them did not accept what was asked.
  if (options.serverNoContextTakeover === true && !serverNoContextTakeover) {
    throw invalidResponse(`${SERVER_NO_CONTEXT_TAKEOVER} was asked for but not accepted`);
  }
  if (serverLimit !== undefined && serverBits === undefined) {
    throw invalidResponse(`${SERVER_MAX_WINDOW_BITS} was asked for but not accepted`);
  }
  return new PerMessageDeflate({
    compressNoContextTakeover: clientNoContextTakeover || options.clientNoContextTakeover === true,
    decompressNoContextTakeover: serverNoContextTakeover,
    // §7.1.2.2: an offered value is kept to even when the server "doesn't include the extension
    // parameter at all".
    compressMaxWindowBits: clientBits ?? clientLimit ?? MAX_DEFLATE_WINDOW_BITS,
    decompressMaxWindowBits: serverBits ?? MAX_DEFLATE_WINDOW_BITS,
    threshold: options.threshold,
    level: options.level,
    memLevel: options.memLevel,
  });
}
