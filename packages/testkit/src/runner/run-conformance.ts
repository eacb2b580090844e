import { type CaseSelection, catalogue as fullCatalogue, selectCases } from '../catalogue/catalogue.js';
import type { ConformanceCase } from '../catalogue/conformance-case.js';
import { type CaseResult, type ConformanceReport, buildReport } from './conformance-report.js';
import { type ConformanceTarget, ConformanceSession, type SessionOptions, describeTarget } from './conformance-session.js';

export interface RunConformanceOptions extends CaseSelection, SessionOptions {
  readonly target: ConformanceTarget;
  /** Cases to choose from. Default: the whole catalogue. */
  readonly catalogue?: readonly ConformanceCase[];
  readonly onCaseStart?: (conformanceCase: ConformanceCase, index: number, total: number) => void;
  readonly onCaseEnd?: (result: CaseResult, index: number, total: number) => void;
}

/**
 * Runs the conformance catalogue (or the selected cases) against a server or a client, one
 * case at a time, and returns the report.
 *
 *     const report = await runConformance({ target: 'ws://127.0.0.1:9001', cases: '1.*,5.*' });
 *     if (report.summary.fail > 0) process.exitCode = 1;
 *
 * With `http2: true` every case opens its WebSocket with an extended CONNECT (RFC 8441).
 */
export async function runConformance(options: RunConformanceOptions): Promise<ConformanceReport> {
  const described = describeTarget(options.target);
  const target = options.http2 === true ? { ...described, description: `${described.description} over HTTP/2` } : described;
  const cases = selectCases(options.catalogue ?? fullCatalogue, { ...options, targetKind: target.kind });
  const startedAt = new Date();
  const session = await ConformanceSession.open(options.target, options);
  const results: CaseResult[] = [];
  try {
    for (const [index, conformanceCase] of cases.entries()) {
      options.onCaseStart?.(conformanceCase, index, cases.length);
      const result = await session.runCase(conformanceCase);
      results.push(result);
      options.onCaseEnd?.(result, index, cases.length);
    }
  } finally {
    await session.close();
  }
  return buildReport({ target, agent: session.agent, startedAt, results });
}
