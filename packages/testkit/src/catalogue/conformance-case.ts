import type { ExtensionOffer, Http2ResponseHeaders } from '@ws/core';
import type { HttpRequestHead } from '../peer/http-head.js';
import type { RequestHeaders } from '../peer/client-handshake.js';
import type { ScriptedPeer } from '../peer/scripted-peer.js';
import type { PeerObserver } from './peer-observer.js';

/**
 * How an implementation behaved in a case, after Autobahn's verdicts:
 * - pass: what RFC 6455 requires, done the best way;
 * - non-strict: allowed by the RFC but not the best behaviour (e.g. noticing invalid UTF-8 only
 *   at the end of a message, or dropping TCP without a close frame);
 * - informational: the RFC leaves it open; the report says what happened;
 * - fail: the RFC was violated;
 * - not-applicable: the case was not run, because it tests something the connection does not
 *   have (an HTTP/1.1 upgrade handshake, on a WebSocket opened over HTTP/2).
 */
export const Outcome = {
  Pass: 'pass',
  NonStrict: 'non-strict',
  Informational: 'informational',
  Fail: 'fail',
  NotApplicable: 'not-applicable',
} as const;

export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** What is under test: a server (the testkit connects as a client) or a client (the testkit serves). */
export const TargetKind = {
  Server: 'server',
  Client: 'client',
} as const;

export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

export interface Verdict {
  readonly outcome: Outcome;
  /** Why, in one or a few sentences: what was expected and what happened. */
  readonly reason: string;
}

/** Milliseconds the cases wait. */
export interface CaseTimeouts {
  /** For an expected reply (an echo, a pong, a close frame). Default 2000. */
  readonly response: number;
  /** How long a fail-fast case waits for the connection to fail before sending the rest. Default 1000. */
  readonly failFast: number;
  /** For the TCP connection to close after the closing handshake. Default 2000. */
  readonly close: number;
}

export const DEFAULT_CASE_TIMEOUTS: CaseTimeouts = { response: 2000, failFast: 1000, close: 2000 };

/** How a case opens its connection; the default is a correct handshake. */
export interface OpenOptions {
  /** Server targets: request header overrides (null removes a field). */
  readonly headers?: RequestHeaders;
  /** Server targets: accept any handshake response ('raw') instead of requiring a valid one. */
  readonly handshake?: 'valid' | 'raw';
  /** Server targets: the request method. Default GET (CONNECT over HTTP/2). */
  readonly method?: string;
  /** Client targets: the raw response to answer the client's request with, wrong on purpose. */
  readonly answer?: (request: HttpRequestHead) => string;
  /**
   * Client targets over HTTP/2: the response header block (`:status` included) to answer the
   * client's extended CONNECT with, wrong on purpose. A case with `answer` and without this one
   * tests the HTTP/1.1 upgrade only (`http1Only`).
   */
  readonly answerOverHttp2?: (request: HttpRequestHead) => Http2ResponseHeaders;
  /**
   * Client targets, with a valid answer: given the extensions the client offered, the
   * `Sec-WebSocket-Extensions` value to accept them with (undefined: none). Server targets
   * offer extensions through `headers`.
   */
  readonly acceptExtensions?: (offers: readonly ExtensionOffer[]) => string | undefined;
}

/** What a case gets to run with. */
export interface CaseContext {
  /** What is under test. The testkit plays the other role. */
  readonly target: TargetKind;
  readonly timeouts: CaseTimeouts;
  /**
   * Opens the case's connection: connects to the server under test, or answers the client
   * under test, which has connected for this case. Call it once.
   */
  open(options?: OpenOptions): Promise<ScriptedPeer>;
  /** The connection opened by `open`, and what the implementation sent on it. */
  readonly peer: ScriptedPeer;
  readonly observer: PeerObserver;
  /** Adds a line to the case's details in the report. */
  note(text: string): void;
}

/**
 * One conformance case: data plus the script that runs it. Ids and sections follow the
 * Autobahn numbering the WebSocket world knows (1 framing, 2 pings/pongs, 3 reserved bits,
 * 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 9 limits/performance, 10 misc,
 * 12 compression with the default offer, 13 compression with each parameter).
 */
export interface ConformanceCase {
  readonly id: string;
  readonly section: number;
  /** What the case sends and what it checks. */
  readonly description: string;
  /** The RFC sentence the check comes from, quoted, with its section. */
  readonly rfc: string;
  /** Which targets it applies to. Default: both. */
  readonly targets?: readonly TargetKind[];
  /**
   * Tests the HTTP/1.1 upgrade handshake itself (Sec-WebSocket-Key or -Accept, Upgrade,
   * Connection, the GET method, the 101 status), which a WebSocket opened with an extended
   * CONNECT over HTTP/2 (RFC 8441) does not have: over HTTP/2 it is reported as not applicable.
   */
  readonly http1Only?: boolean;
  /** Slow (section 9): only run when asked for. */
  readonly slow?: boolean;
  /** Needs permessage-deflate (sections 12 and 13): only run when asked for. */
  readonly deflate?: boolean;
  run(context: CaseContext): Promise<Verdict>;
}

export const SECTION_TITLES: Readonly<Record<number, string>> = {
  1: 'Framing',
  2: 'Pings and pongs',
  3: 'Reserved bits',
  4: 'Opcodes',
  5: 'Fragmentation',
  6: 'UTF-8 handling',
  7: 'Close handling',
  9: 'Limits and performance',
  10: 'Miscellaneous',
  12: 'Compression (permessage-deflate), default offer',
  13: 'Compression (permessage-deflate), each parameter',
};

/** Numeric order of dotted ids: 1.2.10 after 1.2.9. */
export function compareCaseIds(left: string, right: string): number {
  const a = left.split('.').map(Number);
  const b = right.split('.').map(Number);
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? -1) - (b[index] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}
