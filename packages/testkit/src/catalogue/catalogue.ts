import { type ConformanceCase, type TargetKind, compareCaseIds } from './conformance-case.js';
import { section1 } from './section-1-framing.js';
import { section2 } from './section-2-ping-pong.js';
import { section3 } from './section-3-reserved-bits.js';
import { section4 } from './section-4-opcodes.js';
import { section5 } from './section-5-fragmentation.js';
import { section6 } from './section-6-utf8.js';
import { section7 } from './section-7-close.js';
import { section9 } from './section-9-limits.js';
import { section10 } from './section-10-misc.js';
import { section12 } from './section-12-compression.js';
import { section13 } from './section-13-compression-parameters.js';

/** Every conformance case, in id order. */
export const catalogue: readonly ConformanceCase[] = [
  ...section1,
  ...section2,
  ...section3,
  ...section4,
  ...section5,
  ...section6,
  ...section7,
  ...section9,
  ...section10,
  ...section12,
  ...section13,
].sort((left, right) => compareCaseIds(left.id, right.id));

export interface CaseSelection {
  /**
   * Patterns, as a list or comma-separated: "1.*", "6.4.1", "5" (a whole section), "*";
   * a leading "!" excludes ("6.*,!6.4.*"). Default: everything.
   */
  readonly cases?: string | readonly string[];
  /**
   * Include the slow cases (section 9). They are also included when a pattern names section 9
   * explicitly ("9.*", "9.1.1").
   */
  readonly slow?: boolean;
  /**
   * Include the permessage-deflate cases (sections 12 and 13), for a target that compresses.
   * They are also included when a pattern names section 12 or 13 explicitly ("12.*", "13.2.1").
   */
  readonly deflate?: boolean;
  /** Keep only the cases that apply to this kind of target. */
  readonly targetKind?: TargetKind;
}

function globToSource(glob: string): string {
  return glob
    .replace(/[.+^$()|[\]{}\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
}

function patternToRegExp(pattern: string): RegExp {
  // A bare section or group ("5", "6.4") also means everything in it.
  const globs = /^[\d.]+$/.test(pattern) && !pattern.endsWith('.') ? [pattern, `${pattern}.*`] : [pattern];
  return new RegExp(`^(?:${globs.map(globToSource).join('|')})$`);
}

/** Whether a case id matches one pattern of a selection ("1.*", "6.4", "7.7.1"). */
export function matchesCasePattern(id: string, pattern: string): boolean {
  return patternToRegExp(pattern.trim()).test(id);
}

/** The cases a selection names, in id order. */
export function selectCases(cases: readonly ConformanceCase[], selection: CaseSelection = {}): ConformanceCase[] {
  const patterns = (typeof selection.cases === 'string' ? selection.cases.split(',') : (selection.cases ?? []))
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
  const includes = patterns.filter((pattern) => !pattern.startsWith('!'));
  const excludes = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => patternToRegExp(pattern.slice(1)));
  const includeExpressions = (includes.length === 0 ? ['*'] : includes).map((pattern) => ({
    expression: patternToRegExp(pattern),
    namesSlowSection: /^9(\.|$)/.test(pattern),
    namesDeflateSection: /^1[23](\.|$)/.test(pattern),
  }));
  return cases.filter((conformanceCase) => {
    if (
      selection.targetKind !== undefined &&
      conformanceCase.targets !== undefined &&
      !conformanceCase.targets.includes(selection.targetKind)
    ) {
      return false;
    }
    if (excludes.some((expression) => expression.test(conformanceCase.id))) return false;
    return includeExpressions.some(
      ({ expression, namesSlowSection, namesDeflateSection }) =>
        expression.test(conformanceCase.id) &&
        (conformanceCase.slow !== true || selection.slow === true || namesSlowSection) &&
        (conformanceCase.deflate !== true || selection.deflate === true || namesDeflateSection),
    );
  });
}
