import type { TargetKind } from '../catalogue/conformance-case.js';
import type { TranscriptEntry } from '../peer/transcript.js';
import type { CaseResult, ConformanceReport, OutcomeCounts } from './conformance-report.js';

/** A transcript entry in a JSON report: bytes as a hex string. */
export type JsonTranscriptEntry =
  | { readonly at: number; readonly kind: 'sent' | 'received'; readonly length: number; readonly hex: string }
  | { readonly at: number; readonly kind: 'event'; readonly description: string };

/** The JSON report's shape (format "ws-testkit-report", version 1). */
export interface JsonReport {
  readonly format: 'ws-testkit-report';
  readonly version: 1;
  readonly agent: string;
  readonly target: { readonly kind: TargetKind; readonly description: string };
  readonly startedAt: string;
  readonly durationMs: number;
  readonly summary: OutcomeCounts;
  readonly cases: readonly (Omit<CaseResult, 'transcript'> & { readonly transcript: readonly JsonTranscriptEntry[] })[];
}

export interface JsonReportOptions {
  /** Bytes of each transcript entry kept, as hex. Default 1024. */
  readonly bytesPerEntry?: number;
}

function toJsonEntry(entry: TranscriptEntry, bytesPerEntry: number): JsonTranscriptEntry {
  if (entry.kind === 'event') return { at: entry.at, kind: 'event', description: entry.description };
  return { at: entry.at, kind: entry.kind, length: entry.length, hex: entry.bytes.subarray(0, bytesPerEntry).toString('hex') };
}

export function toJsonReport(report: ConformanceReport, options: JsonReportOptions = {}): JsonReport {
  const bytesPerEntry = options.bytesPerEntry ?? 1024;
  return {
    format: 'ws-testkit-report',
    version: 1,
    agent: report.agent,
    target: report.target,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    summary: report.summary,
    cases: report.results.map((result) => ({
      id: result.id,
      section: result.section,
      description: result.description,
      rfc: result.rfc,
      outcome: result.outcome,
      reason: result.reason,
      durationMs: result.durationMs,
      notes: result.notes,
      transcript: result.transcript.map((entry) => toJsonEntry(entry, bytesPerEntry)),
    })),
  };
}

/** The JSON report as text, for a file. */
export function formatJsonReport(report: ConformanceReport, options: JsonReportOptions = {}): string {
  return `${JSON.stringify(toJsonReport(report, options), null, 2)}\n`;
}
