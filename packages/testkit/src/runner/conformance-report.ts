import type { ConformanceCase, Outcome, TargetKind } from '../catalogue/conformance-case.js';
import type { TranscriptEntry } from '../peer/transcript.js';

/** What running one case produced. */
export interface CaseResult {
  readonly id: string;
  readonly section: number;
  readonly description: string;
  readonly rfc: string;
  readonly outcome: Outcome;
  readonly reason: string;
  readonly durationMs: number;
  /** Lines the case added while running (pings answered, steps taken). */
  readonly notes: readonly string[];
  /** Every byte both ways, for the report. */
  readonly transcript: readonly TranscriptEntry[];
}

export type OutcomeCounts = Readonly<Record<Outcome, number>> & { readonly total: number };

export interface ConformanceReport {
  /** What was tested: a server at a URL, or a client. */
  readonly target: { readonly kind: TargetKind; readonly description: string };
  /** The name of the implementation under test. */
  readonly agent: string;
  /** ISO 8601 time the run started. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly summary: OutcomeCounts;
  readonly results: readonly CaseResult[];
}

/**
 * One line per failed case, `id: reason`: what a test asserts to be empty, so that a failure
 * shows which cases failed and why.
 */
export function failedCases(report: Pick<ConformanceReport, 'results'>): string[] {
  return report.results.filter((result) => result.outcome === 'fail').map((result) => `${result.id}: ${result.reason}`);
}

/** Counts of each outcome. */
export function countOutcomes(results: readonly Pick<CaseResult, 'outcome'>[]): OutcomeCounts {
  const counts = { pass: 0, 'non-strict': 0, informational: 0, fail: 0, 'not-applicable': 0, total: results.length };
  for (const result of results) counts[result.outcome]++;
  return counts;
}

export function buildReport(parts: {
  target: ConformanceReport['target'];
  agent: string;
  startedAt: Date;
  results: readonly CaseResult[];
}): ConformanceReport {
  return {
    target: parts.target,
    agent: parts.agent,
    startedAt: parts.startedAt.toISOString(),
    durationMs: Math.round(Date.now() - parts.startedAt.getTime()),
    summary: countOutcomes(parts.results),
    results: parts.results,
  };
}

/** The fields of a case a result repeats. */
export function caseFields(conformanceCase: ConformanceCase): Pick<CaseResult, 'id' | 'section' | 'description' | 'rfc'> {
  return {
    id: conformanceCase.id,
    section: conformanceCase.section,
    description: conformanceCase.description,
    rfc: conformanceCase.rfc,
  };
}
