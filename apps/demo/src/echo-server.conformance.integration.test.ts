import type { AddressInfo } from 'node:net';
import type { WebSocketServer } from '@ws/server';
import { type ConformanceReport, catalogue, runConformance, selectCases } from '@ws/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEchoServer } from './echo-server.js';

/**
 * The sections of RFC 6455 the catalogue covers. Section 9 (16 MiB messages, 65536 fragments,
 * 1000 round trips) is named explicitly, so it runs too: against this server it takes seconds.
 */
const SECTIONS = '1,2,3,4,5,6,7,9,10';

/**
 * Cases where RFC 6455 allows more than one behaviour: the report says which one was seen.
 * 7.1.6: the 256 KiB message is echoed before the close reply; 7.13.1-7.13.2: close codes
 * 5000 and 65535 are refused with 1002; 10.2.1-10.2.2: non-minimal length encodings are accepted.
 */
const INFORMATIONAL = ['7.1.6', '7.13.1', '7.13.2', '10.2.1', '10.2.2'];

let server: WebSocketServer;
let url: string;

beforeAll(async () => {
  server = await startEchoServer({ port: 0 });
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await server.close();
});

const withOutcome = (report: ConformanceReport, outcome: string) =>
  report.results.filter((result) => result.outcome === outcome).map((result) => `${result.id}: ${result.reason}`);

it("passes the testkit's catalogue: no failure, no non-strict outcome", { timeout: 180_000 }, async () => {
  const report = await runConformance({ target: url, cases: SECTIONS, agent: 'demo echo server' });
  expect(report.summary.total).toBe(selectCases(catalogue, { cases: SECTIONS, targetKind: 'server' }).length);
  expect(new Set(report.results.map((result) => result.section))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 9, 10]));
  expect(withOutcome(report, 'fail')).toEqual([]);
  expect(withOutcome(report, 'non-strict')).toEqual([]);
  expect(report.results.filter((result) => result.outcome === 'informational').map((result) => result.id)).toEqual(INFORMATIONAL);
});
