import { type ConformanceReport, failedCases, runCli, runConformance } from '@ws/testkit';
import { describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../core/test/self-signed-certificate.js';
import { connect, type ConnectOptions } from './connect.js';

/**
 * The testkit's client catalogue (sections 1-7 and 10) against @ws/client with every case's
 * WebSocket on an HTTP/2 stream (RFC 8441): the testkit serves h2c, or h2 over TLS with a
 * certificate made here, and answers the client's extended CONNECT. No case fails; only the
 * cases of the HTTP/1.1 upgrade itself (accept key, Upgrade, Connection, the 101) are not
 * applicable.
 */

const HTTP1_ONLY = ['10.6.1', '10.6.2', '10.6.3', '10.6.6'];
const CLIENT_SECTIONS = '1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*';

/** The conformance driver: connect over HTTP/2, echo every message until the server closes. */
async function echo(url: string, options: ConnectOptions): Promise<void> {
  const connection = await connect(url, { http2: true, ...options });
  try {
    for await (const message of connection) connection.send(message);
  } catch {
    // How the connection ended is what the case judges.
  }
}

const idsWith = (report: ConformanceReport, outcome: string) =>
  report.results.filter((result) => result.outcome === outcome).map((result) => result.id);

describe.each([
  { name: 'h2c', secure: false },
  { name: 'h2 (TLS)', secure: true },
])('the client catalogue over HTTP/2, $name', ({ secure }) => {
  it('fails no case; the HTTP/1.1 handshake cases are not applicable', { timeout: 60_000 }, async () => {
    const certificate = selfSignedCertificate();
    const urls: string[] = [];
    const report = await runConformance({
      target: {
        client: (url) => {
          urls.push(url);
          return echo(url, secure ? { ca: certificate.cert } : {});
        },
      },
      http2: true,
      ...(secure ? { tls: certificate } : {}),
      agent: '@ws/client',
      cases: CLIENT_SECTIONS,
    });
    expect(failedCases(report)).toEqual([]);
    expect(idsWith(report, 'not-applicable')).toEqual(HTTP1_ONLY);
    expect(report.summary.pass).toBeGreaterThan(200);
    expect(urls[0]).toMatch(secure ? /^wss:\/\/127\.0\.0\.1:\d+\/runCase\?/ : /^ws:\/\/127\.0\.0\.1:\d+\/runCase\?/);
    expect(report.target.description).toMatch(/over HTTP\/2$/);
    const events = report.results[0]!.transcript.flatMap((entry) => (entry.kind === 'event' ? [entry.description] : []));
    expect(events).toContainEqual(expect.stringMatching(/^HTTP\/2 request: :method: CONNECT, .*:protocol: websocket/));
    expect(events).toContainEqual(expect.stringMatching(/^HTTP\/2 response: :status: 200/));
    // Subprotocol and extension negotiation apply over HTTP/2: the client refuses what it did not offer.
    for (const id of ['10.6.4', '10.6.5']) expect(report.results.find((result) => result.id === id)?.outcome).toBe('pass');
  });
});

describe('ws-testkit client --http2', () => {
  /** An Autobahn driver written with @ws/client over HTTP/2. */
  async function drive(base: string): Promise<void> {
    const messagesOf = async (url: string): Promise<string[]> => {
      const messages: string[] = [];
      const connection = await connect(url, { http2: true });
      for await (const message of connection) messages.push(String(message));
      return messages;
    };
    const [count] = await messagesOf(`${base}/getCaseCount`);
    // A client that refuses a wrong answer (10.6) rejects: the case judges that, the driver goes on.
    for (let index = 1; index <= Number(count); index++) await echo(`${base}/runCase?case=${index}&agent=h2`, {}).catch(() => undefined);
    await messagesOf(`${base}/updateReports?agent=h2`);
  }

  it('serves the Autobahn client protocol over h2c and exits 0', { timeout: 30_000 }, async () => {
    let stdout = '';
    const status = await runCli(['client', '--http2', '--port', '0', '--cases', '1.1.*,10.6.*', '--no-report'], {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stdout += text),
      color: false,
      onListening: (url) => void drive(url),
    });
    expect(stdout).toMatch(/Serving 14 cases on ws:\/\/127\.0\.0\.1:\d+ \(Autobahn client protocol, over HTTP\/2 \(h2c\)\)/);
    expect(stdout).toMatch(/0 fail, 4 not applicable/);
    expect(status).toBe(0);
  });
});
