import {
  type CaseContext,
  type CaseTimeouts,
  type ConformanceCase,
  type OpenOptions,
  Outcome,
  type TargetKind,
  type Verdict,
} from '../catalogue/conformance-case.js';
import { PeerObserver } from '../catalogue/peer-observer.js';
import { ExpectationError } from '../peer/expectation-error.js';
import type { ScriptedPeer } from '../peer/scripted-peer.js';
import type { TranscriptEntry } from '../peer/transcript.js';
import { type CaseResult, caseFields } from './conformance-report.js';

export interface ExecuteCaseOptions {
  readonly target: TargetKind;
  readonly timeouts: CaseTimeouts;
  /** Opens the case's connection in the testkit's role. */
  readonly open: (options: OpenOptions) => Promise<ScriptedPeer>;
  /** Upper bound of the whole case, ms. */
  readonly caseTimeout: number;
}

/**
 * Runs one case and turns whatever happens — a verdict, a thrown error, a hang — into a
 * result. The connection is always torn down afterwards.
 */
export async function executeCase(conformanceCase: ConformanceCase, options: ExecuteCaseOptions): Promise<CaseResult> {
  const notes: string[] = [];
  let peer: ScriptedPeer | undefined;
  let observer: PeerObserver | undefined;
  let failedTranscript: readonly TranscriptEntry[] = [];
  const note = (text: string) => {
    notes.push(text);
    peer?.note(text);
  };
  const context: CaseContext = {
    target: options.target,
    timeouts: options.timeouts,
    async open(openOptions = {}) {
      if (peer !== undefined) throw new Error('A case opens one connection');
      peer = await options.open(openOptions);
      observer = new PeerObserver(peer, options.target, note);
      return peer;
    },
    get peer() {
      if (peer === undefined) throw new Error('The case has not opened its connection');
      return peer;
    },
    get observer() {
      if (observer === undefined) throw new Error('The case has not opened its connection');
      return observer;
    },
    note,
  };
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let verdict: Verdict;
  try {
    verdict = await Promise.race([
      conformanceCase.run(context),
      new Promise<Verdict>((resolve) => {
        timer = setTimeout(
          () => resolve({ outcome: Outcome.Fail, reason: `the case did not finish within ${options.caseTimeout} ms` }),
          options.caseTimeout,
        );
      }),
    ]);
  } catch (error) {
    if (error instanceof ExpectationError) failedTranscript = error.transcript;
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    verdict = { outcome: Outcome.Fail, reason: message };
  } finally {
    clearTimeout(timer);
  }
  const durationMs = Math.round(performance.now() - started);
  const openedPeer = peer as ScriptedPeer | undefined;
  if (openedPeer !== undefined) await openedPeer.close();
  return {
    ...caseFields(conformanceCase),
    outcome: verdict.outcome,
    reason: verdict.reason,
    durationMs,
    notes,
    transcript: openedPeer?.transcript() ?? failedTranscript,
  };
}
