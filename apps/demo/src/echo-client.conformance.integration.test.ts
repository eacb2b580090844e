import { AutobahnServer, type ConformanceReport } from '@ws/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runEchoClient } from './echo-client.js';

/**
 * The client catalogue's sections. Section 9 (16 MiB messages, 65536 fragments, 1000 round
 * trips) is named explicitly, so it runs too: against this client it takes seconds.
 */
const SECTIONS = '1,2,3,4,5,6,7,9,10';

/**
 * Cases where RFC 6455 allows more than one behaviour: the report says which one was seen.
 * 7.1.6: the 256 KiB message is echoed before the close reply; 7.13.1-7.13.2: close codes
 * 5000 and 65535 are refused with 1002; 10.2.1-10.2.2: non-minimal length encodings are accepted.
 */
const INFORMATIONAL = ['7.1.6', '7.13.1', '7.13.2', '10.2.1', '10.2.2'];

let fuzzingServer: AutobahnServer;

beforeAll(async () => {
  fuzzingServer = await AutobahnServer.listen({ port: 0, cases: SECTIONS });
});

afterAll(async () => {
  await fuzzingServer.close();
});

const withOutcome = (report: ConformanceReport, outcome: string) =>
  report.results.filter((result) => result.outcome === outcome).map((result) => `${result.id}: ${result.reason}`);

it("passes the testkit's client catalogue through the Autobahn protocol: no failure, no non-strict outcome", { timeout: 180_000 }, async () => {
  const reported = fuzzingServer.waitForReport();
  const { caseCount, outcomes } = await runEchoClient(fuzzingServer.url, { agent: 'ws-client' });
  const report = await reported;

  expect(caseCount).toBe(fuzzingServer.cases.length);
  expect(outcomes).toHaveLength(caseCount);
  expect(report.agent).toBe('ws-client');
  expect(report.summary.total).toBe(caseCount);
  expect(new Set(report.results.map((result) => result.section))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 9, 10]));
  expect(withOutcome(report, 'fail')).toEqual([]);
  expect(withOutcome(report, 'non-strict')).toEqual([]);
  expect(report.results.filter((result) => result.outcome === 'informational').map((result) => result.id)).toEqual(INFORMATIONAL);
});
