import { type ConformanceCase, type Outcome, SECTION_TITLES } from '../catalogue/conformance-case.js';
import type { CaseResult, ConformanceReport } from './conformance-report.js';

export interface TerminalOptions {
  /** ANSI colours. Default false. */
  readonly color?: boolean;
  /** One line per case instead of one character. Default false. */
  readonly verbose?: boolean;
}

const COLOURS: Readonly<Record<Outcome, string>> = { pass: '32', 'non-strict': '33', informational: '36', fail: '31', 'not-applicable': '90' };
const SYMBOLS: Readonly<Record<Outcome, string>> = { pass: '.', 'non-strict': 'n', informational: 'i', fail: 'F', 'not-applicable': '-' };

function paint(text: string, outcome: Outcome, color: boolean): string {
  return color ? `\u001b[${COLOURS[outcome]}m${text}\u001b[0m` : text;
}

/**
 * Progress callbacks for `runConformance`: a character per case (. pass, n non-strict,
 * i informational, F fail, - not applicable), a line per section, or one line per case when verbose.
 */
export function createProgressReporter(
  write: (text: string) => void,
  options: TerminalOptions = {},
): { onCaseStart: (conformanceCase: ConformanceCase) => void; onCaseEnd: (result: CaseResult, index: number, total: number) => void } {
  const color = options.color ?? false;
  let section: number | undefined;
  let column = 0;
  return {
    onCaseStart(conformanceCase) {
      if (options.verbose === true || conformanceCase.section === section) return;
      write(`${section === undefined ? '' : '\n'}${String(conformanceCase.section).padStart(2)} ${(SECTION_TITLES[conformanceCase.section] ?? '').padEnd(24)} `);
      section = conformanceCase.section;
      column = 0;
    },
    onCaseEnd(result, index, total) {
      if (options.verbose === true) {
        write(`${`[${index + 1}/${total}]`.padStart(11)} ${result.id.padEnd(8)} ${paint(result.outcome.padEnd(13), result.outcome, color)} ${result.reason}\n`);
        return;
      }
      if (column === 60) {
        write(`\n${''.padEnd(28)}`);
        column = 0;
      }
      write(paint(SYMBOLS[result.outcome], result.outcome, color));
      column++;
      if (index + 1 === total) write('\n');
    },
  };
}

/** The end-of-run summary: counts per section, every case that did not pass, and the totals. */
export function formatTerminalSummary(report: ConformanceReport, options: TerminalOptions = {}): string {
  const color = options.color ?? false;
  const lines: string[] = ['', `Conformance of ${report.agent} (${report.target.kind}: ${report.target.description})`, ''];
  const sections = [...new Set(report.results.map((result) => result.section))].sort((left, right) => left - right);
  lines.push(`  ${'section'.padEnd(28)}${'pass'.padStart(6)}${'non-strict'.padStart(12)}${'info'.padStart(6)}${'fail'.padStart(6)}`);
  for (const section of sections) {
    const results = report.results.filter((result) => result.section === section);
    const count = (outcome: Outcome) => results.filter((result) => result.outcome === outcome).length;
    lines.push(
      `  ${`${section} ${SECTION_TITLES[section] ?? ''}`.padEnd(28)}${String(count('pass')).padStart(6)}${String(count('non-strict')).padStart(12)}${String(
        count('informational'),
      ).padStart(6)}${String(count('fail')).padStart(6)}`,
    );
  }
  const notable = report.results.filter((result) => result.outcome !== 'pass');
  if (notable.length > 0) lines.push('');
  for (const result of notable) {
    lines.push(`  ${result.id.padEnd(8)} ${paint(result.outcome.padEnd(13), result.outcome, color)} ${result.reason}`);
  }
  const { summary } = report;
  const total = `${summary.total} cases: ${summary.pass} pass, ${summary['non-strict']} non-strict, ${summary.informational} informational, ${summary.fail} fail${
    summary['not-applicable'] > 0 ? `, ${summary['not-applicable']} not applicable` : ''
  } (${(
    report.durationMs / 1000
  ).toFixed(1)} s)`;
  lines.push('', `  ${paint(total, summary.fail > 0 ? 'fail' : 'pass', color)}`, '');
  return lines.join('\n');
}
