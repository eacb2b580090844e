import { afterAll, describe, it } from 'vitest';
import {
  type CaseResult,
  type CaseSelection,
  type ConformanceCase,
  ConformanceSession,
  type ConformanceTarget,
  type Outcome,
  SECTION_TITLES,
  type SessionOptions,
  type TargetKind,
  catalogue as fullCatalogue,
  formatTranscript,
  matchesCasePattern,
  selectCases,
} from '@ws/testkit';

export interface DescribeConformanceOptions extends Omit<CaseSelection, 'targetKind'>, SessionOptions {
  /** Non-strict outcomes fail the test too. Default false: only 'fail' fails. */
  readonly strict?: boolean;
  /**
   * Known outcomes by case pattern, e.g. { '6.4.*': 'non-strict' }: the case must have exactly
   * that outcome (so a documented exception cannot silently change).
   */
  readonly expect?: Readonly<Record<string, Outcome>>;
  /** Cases to choose from. Default: the whole catalogue. */
  readonly catalogue?: readonly ConformanceCase[];
}

function failureMessage(result: CaseResult, expected: string): string {
  return [
    `${result.id} ${result.outcome} (expected ${expected}): ${result.reason}`,
    `  ${result.description}`,
    `  ${result.rfc}`,
    ...result.notes.map((note) => `  note: ${note}`),
    'Transcript:',
    formatTranscript(result.transcript, { tail: 24 }),
  ].join('\n');
}

/**
 * Why a case result fails its vitest test, or undefined when it does not: a fail always does;
 * a non-strict outcome does under `strict`; a case with a known outcome must have exactly it;
 * a not-applicable one never does.
 */
export function conformanceFailure(
  result: CaseResult,
  options: Pick<DescribeConformanceOptions, 'strict' | 'expect'> = {},
): string | undefined {
  const known = Object.entries(options.expect ?? {}).find(([pattern]) => matchesCasePattern(result.id, pattern))?.[1];
  if (known !== undefined) return result.outcome === known ? undefined : failureMessage(result, known);
  // A case that does not apply to the transport (an HTTP/1.1 handshake case over HTTP/2) was not run.
  if (result.outcome === 'not-applicable') return undefined;
  const allowed: readonly Outcome[] = options.strict === true ? ['pass', 'informational'] : ['pass', 'non-strict', 'informational'];
  return allowed.includes(result.outcome) ? undefined : failureMessage(result, allowed.join(' or '));
}

function register(
  name: string,
  kind: TargetKind,
  getTarget: () => ConformanceTarget | Promise<ConformanceTarget>,
  options: DescribeConformanceOptions,
): void {
  const cases = selectCases(options.catalogue ?? fullCatalogue, { ...options, targetKind: kind });
  let session: Promise<ConformanceSession> | undefined;
  const open = () => (session ??= Promise.resolve(getTarget()).then((target) => ConformanceSession.open(target, options)));

  describe(name, () => {
    afterAll(async () => {
      if (session !== undefined) await (await session).close();
    });
    const sections = [...new Set(cases.map((conformanceCase) => conformanceCase.section))];
    for (const section of sections) {
      describe(`${section} ${SECTION_TITLES[section] ?? ''}`.trim(), () => {
        for (const conformanceCase of cases.filter((candidate) => candidate.section === section)) {
          const timeout = (conformanceCase.slow === true ? 120_000 : 30_000) + 5_000;
          it(`${conformanceCase.id} ${conformanceCase.description}`, { timeout }, async () => {
            const result = await (await open()).runCase(conformanceCase);
            const failure = conformanceFailure(result, options);
            if (failure !== undefined) throw new Error(failure);
          });
        }
      });
    }
  });
}

/**
 * Registers one vitest test per conformance case against a WebSocket echo server. The getter
 * runs when the first case starts, so the URL can come from a `beforeAll` that started the
 * server on port 0:
 *
 *     let url = '';
 *     beforeAll(async () => { url = await startMyEchoServer(); });
 *     describeConformance('my server', () => url, { cases: '1.*,2.*,5.*,6.*,7.*' });
 */
export function describeConformance(
  name: string,
  getUrl: () => string | URL | Promise<string | URL>,
  options: DescribeConformanceOptions = {},
): void {
  register(name, 'server', getUrl, options);
}

/**
 * Registers one vitest test per conformance case against a WebSocket client. `connect` is
 * called once per case with a URL of the testkit's server: it must connect the client there
 * and echo every message (text as text, binary as binary) until the connection closes, and
 * should settle once it is closed (or failed).
 */
export function describeClientConformance(
  name: string,
  connect: (url: string) => unknown,
  options: DescribeConformanceOptions = {},
): void {
  register(name, 'client', () => ({ client: connect }), options);
}
