import { describe, expect, it } from 'vitest';
import { hex } from '../peer/hex.js';
import type { CaseResult, ConformanceReport } from './conformance-report.js';
import { buildReport } from './conformance-report.js';
import { renderHtmlReport } from './html-report.js';
import { formatJsonReport, toJsonReport } from './json-report.js';
import { createProgressReporter, formatTerminalSummary } from './terminal-summary.js';

const result = (id: string, outcome: CaseResult['outcome'], reason = 'why'): CaseResult => ({
  id,
  section: Number(id.split('.')[0]),
  description: `Case ${id} <checks> & "quotes"`,
  rfc: 'RFC 6455 §5.2: "quoted"',
  outcome,
  reason,
  durationMs: 3,
  notes: ['a note'],
  transcript: [
    { kind: 'sent', at: 0.1, bytes: hex`81 82 00 00 00 00 68 69`, length: 8 },
    { kind: 'received', at: 0.4, bytes: hex`81 02 68 69`, length: 4 },
    { kind: 'event', at: 0.5, description: 'end of stream' },
  ],
});

const report: ConformanceReport = buildReport({
  target: { kind: 'server', description: 'ws://127.0.0.1:9001' },
  agent: 'demo <server>',
  startedAt: new Date('2025-01-01T00:00:00Z'),
  results: [result('1.1.1', 'pass'), result('6.4.1', 'non-strict', 'noticed late'), result('7.13.1', 'informational'), result('10.5.1', 'fail', 'answered 101')],
});

describe('reports', () => {
  it('counts outcomes', () => {
    expect(report.summary).toEqual({ pass: 1, 'non-strict': 1, informational: 1, fail: 1, 'not-applicable': 0, total: 4 });
  });

  it('counts not-applicable cases (HTTP/1.1 handshake cases over HTTP/2) apart, and only mentions them when there are some', () => {
    const overHttp2 = buildReport({
      target: { kind: 'server', description: 'ws://127.0.0.1:9001 over HTTP/2' },
      agent: 'demo',
      startedAt: new Date(),
      results: [result('1.1.1', 'pass'), result('10.5.1', 'not-applicable', 'tests the HTTP/1.1 upgrade')],
    });
    expect(overHttp2.summary).toMatchObject({ pass: 1, fail: 0, 'not-applicable': 1, total: 2 });
    expect(formatTerminalSummary(overHttp2)).toMatch(/2 cases: 1 pass, 0 non-strict, 0 informational, 0 fail, 1 not applicable/);
    expect(formatTerminalSummary(overHttp2)).toMatch(/10\.5\.1 +not-applicable tests the HTTP\/1\.1 upgrade/);
    expect(formatTerminalSummary(report)).not.toContain('not applicable');
    expect(renderHtmlReport(overHttp2)).toContain('class="not-applicable"');
  });

  it('writes JSON with transcripts as hex and parses back', () => {
    const json = JSON.parse(formatJsonReport(report));
    expect(json).toMatchObject({ format: 'ws-testkit-report', version: 1, agent: 'demo <server>', summary: report.summary });
    expect(json.cases[0].transcript).toEqual([
      { at: 0.1, kind: 'sent', length: 8, hex: '8182000000006869' },
      { at: 0.4, kind: 'received', length: 4, hex: '81026869' },
      { at: 0.5, kind: 'event', description: 'end of stream' },
    ]);
    expect(toJsonReport(report, { bytesPerEntry: 2 }).cases[0]!.transcript[0]).toMatchObject({ hex: '8182', length: 8 });
  });

  it('renders self-contained, escaped HTML with every case and its transcript', () => {
    const html = renderHtmlReport(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<link|src=/);
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toContain('WebSocket conformance: demo &#60;server&#62;');
    expect(html).toContain('Case 1.1.1 &#60;checks&#62; &#38; &#34;quotes&#34;');
    for (const id of ['1.1.1', '6.4.1', '7.13.1', '10.5.1']) expect(html).toContain(`id="case-${id}"`);
    expect(html).toMatch(/<details id="case-10.5.1" class="fail" open>/);
    expect(html).toContain('    +0.1ms  sent           8 B\n           0000  81 82 00 00 00 00 68 69                           |......hi|');
    expect(html).toContain('    +0.5ms  event              end of stream');
    expect(html).toContain('<h2>10 Miscellaneous</h2>');
  });

  it('summarises for a terminal, listing every case that did not pass', () => {
    const text = formatTerminalSummary(report);
    expect(text).toContain('4 cases: 1 pass, 1 non-strict, 1 informational, 1 fail');
    expect(text).toMatch(/10\.5\.1\s+fail\s+answered 101/);
    expect(text).not.toMatch(/1\.1\.1\s+pass/);
    expect(text).not.toContain('\u001b[');
    expect(formatTerminalSummary(report, { color: true })).toContain('\u001b[31m');
  });

  it('prints progress as one character per case, grouped by section', () => {
    let output = '';
    const progress = createProgressReporter((text) => (output += text));
    const cases = report.results;
    cases.forEach((item, index) => {
      progress.onCaseStart({ id: item.id, section: item.section, description: '', rfc: '', run: async () => ({ outcome: 'pass', reason: '' }) });
      progress.onCaseEnd(item, index, cases.length);
    });
    expect(output).toBe(' 1 Framing                  .\n 6 UTF-8 handling           n\n 7 Close handling           i\n10 Miscellaneous            F\n');
  });
});
