import { type ConformanceCase, type OpenOptions, Outcome } from '../catalogue/conformance-case.js';
import { PendingExtendedConnect } from '../peer/pending-extended-connect.js';
import type { ScriptedPeer } from '../peer/scripted-peer.js';
import type { PendingUpgrade } from '../peer/scripted-server.js';
import { type CaseResult, caseFields } from './conformance-report.js';

/** A client's opening handshake the testkit has received: an HTTP/1.1 upgrade or an extended CONNECT. */
export type PendingHandshake = PendingUpgrade | PendingExtendedConnect;

/**
 * Answers a client's opening handshake as a case asks (`context.open(options)` with the client
 * under test): correctly by default, or with the case's wrong answer — its raw HTTP/1.1 response
 * on an upgrade, its response header block on an extended CONNECT over HTTP/2.
 */
export function answerClientCase(pending: PendingHandshake, options: OpenOptions): Promise<ScriptedPeer> {
  if (pending instanceof PendingExtendedConnect) {
    if (options.answer !== undefined && options.answerOverHttp2 === undefined) {
      pending.destroy();
      throw new Error('The case answers with an HTTP/1.1 response only and has no answer over HTTP/2');
    }
    return pending.answer({ handshake: options.answerOverHttp2 ?? 'valid', extensions: options.acceptExtensions });
  }
  return pending.answer({ handshake: options.answer ?? 'valid', extensions: options.acceptExtensions });
}

/** The result of a case that tests the HTTP/1.1 upgrade itself, on a WebSocket opened over HTTP/2. */
export function notApplicableOverHttp2(conformanceCase: ConformanceCase): CaseResult {
  return {
    ...caseFields(conformanceCase),
    outcome: Outcome.NotApplicable,
    reason: 'tests the HTTP/1.1 upgrade handshake, which a WebSocket opened with an extended CONNECT over HTTP/2 (RFC 8441) does not have',
    durationMs: 0,
    notes: [],
    transcript: [],
  };
}
