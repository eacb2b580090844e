import { failedCases, runConformance } from '@ws/testkit';
import { expect, test } from 'vitest';
import { connect } from './connect.js';

/**
 * All a conformance driver (Autobahn's `/runCase?case=N&agent=A` protocol) needs from the
 * client: connect, echo every message as it came (text as text, binary as binary) until the
 * server closes. When the server fails the connection on purpose the loop ends with an error,
 * which the case itself judges.
 */
async function echo(url: string): Promise<void> {
  const connection = await connect(url);
  try {
    for await (const message of connection) connection.send(message);
  } catch {
    // How the connection ended is what the case judges.
  }
}

async function failuresOf(cases: string): Promise<string[]> {
  const report = await runConformance({ target: { client: echo }, agent: '@ws/client', cases });
  expect(report.results.length).toBeGreaterThan(0);
  return failedCases(report);
}

test('passes the conformance catalogue as a client: sections 1-7 and 10', { timeout: 30_000 }, async () => {
  expect(await failuresOf('1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*')).toEqual([]);
});

test('passes section 9 (large messages, many fragments)', { timeout: 30_000 }, async () => {
  expect(await failuresOf('9.*')).toEqual([]);
});

// The close echo waits until the application has answered the messages that came with the
// close (RFC 6455 §5.5.1 allows it), so a message and a close in one write get the echo first.
test('7.1.1: a message followed by a close frame in one write is echoed before the close', async () => {
  expect(await failuresOf('7.1.1*')).toEqual([]);
});
