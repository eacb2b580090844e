import { once } from 'node:events';
import { createSecureServer, createServer, type Http2SecureServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type ConformanceReport, failedCases, runCli, runConformance, ScriptedPeer } from '@ws/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../core/test/self-signed-certificate.js';
import { WebSocketServer } from './index.js';

/**
 * The testkit's catalogue (sections 1-7 and 10; 9, 12 and 13 are opt-in) against @ws/server
 * with every case's WebSocket on an HTTP/2 stream (RFC 8441), h2c and h2 over TLS: no case
 * fails, and only the cases of the HTTP/1.1 upgrade itself are not applicable.
 */

const HTTP1_ONLY = ['10.5.1', '10.5.2', '10.5.4', '10.5.5'];

interface EchoServer {
  readonly origin: string;
  close(): Promise<void>;
}

async function echoServer(secure: boolean): Promise<EchoServer> {
  const certificate = selfSignedCertificate();
  const http2: Http2Server | Http2SecureServer = secure ? createSecureServer({ ...certificate, allowHTTP1: true }) : createServer();
  const sessions = new Set<{ destroy(): void }>();
  http2.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const server = new WebSocketServer({ heartbeat: false, server: http2 });
  server.on('connection', (connection) => connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary })));
  http2.listen(0, '127.0.0.1');
  await once(http2, 'listening');
  const { port } = http2.address() as AddressInfo;
  return {
    origin: `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    async close() {
      await server.close({ timeout: 200 });
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => http2.close(resolve));
    },
  };
}

const idsWith = (report: ConformanceReport, outcome: string) =>
  report.results.filter((result) => result.outcome === outcome).map((result) => result.id);

describe.each([
  { name: 'h2c', secure: false },
  { name: 'h2 (TLS)', secure: true },
])('the conformance catalogue over HTTP/2, $name', ({ secure }) => {
  let server: EchoServer;
  beforeAll(async () => {
    server = await echoServer(secure);
  });
  afterAll(() => server.close());

  it('fails no case; the HTTP/1.1 handshake cases are not applicable', { timeout: 90_000 }, async () => {
    const report = await runConformance({
      target: server.origin,
      http2: true,
      agent: '@ws/server',
      ...(secure ? { tls: { ca: selfSignedCertificate().cert } } : {}),
    });
    expect(failedCases(report)).toEqual([]);
    expect(idsWith(report, 'not-applicable')).toEqual(HTTP1_ONLY);
    expect(report.summary.pass).toBeGreaterThan(200);
    const events = report.results[0]!.transcript.flatMap((entry) => (entry.kind === 'event' ? [entry.description] : []));
    expect(events).toContainEqual(expect.stringMatching(/^HTTP\/2 extended CONNECT: :method: CONNECT, :protocol: websocket/));
    expect(events).toContainEqual(expect.stringMatching(/^HTTP\/2 response: :status 200/));
    expect(report.target.description).toBe(`${server.origin} over HTTP/2`);
    // 10.5.3 applies: RFC 8441 keeps Sec-WebSocket-Version, and a wrong one is refused with 400.
    expect(report.results.find((result) => result.id === '10.5.3')?.outcome).toBe('pass');
  });
});

describe('ScriptedPeer.connect with http2', () => {
  let server: EchoServer;
  beforeAll(async () => {
    server = await echoServer(true);
  });
  afterAll(() => server.close());

  it('opens on an HTTP/2 stream over TLS, and frames flow both ways', async () => {
    const peer = await ScriptedPeer.connect(`${server.origin.replace(/^wss:/, 'https:')}/room`, {
      http2: true,
      tls: { ca: selfSignedCertificate().cert },
    });
    expect(peer.handshakeResponse).toMatchObject({ statusCode: 200, httpVersion: '2.0' });
    await peer.sendText('hello', { chop: 2 });
    await peer.expectMessage('hello');
    await peer.sendClose(1000);
    await peer.expectClose(1000);
    await peer.expectEof();
    await peer.close();
  });

  it("leaves a refusal for the test to judge with handshake: 'raw', and rejects it otherwise", async () => {
    const options = { http2: true, tls: { ca: selfSignedCertificate().cert }, headers: { 'Sec-WebSocket-Version': '8' } } as const;
    const refused = await ScriptedPeer.connect(server.origin, { ...options, handshake: 'raw' });
    expect(refused.handshakeResponse?.statusCode).toBe(400);
    expect(refused.handshakeResponse?.headers['sec-websocket-version']).toBe('13');
    await refused.close();
    await expect(ScriptedPeer.connect(server.origin, options)).rejects.toThrow(/Opening handshake rejected: Unexpected server response: 400/);
  });
});

describe('ws-testkit server --http2', () => {
  let server: EchoServer;
  beforeAll(async () => {
    server = await echoServer(false);
  });
  afterAll(() => server.close());

  it('runs the selected cases over h2c and exits 0', { timeout: 30_000 }, async () => {
    let stdout = '';
    const status = await runCli(['server', server.origin.replace(/^ws:/, 'http:'), '--http2', '--cases', '1.1.*,10.5.*', '--no-report'], {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stdout += text),
      color: false,
    });
    expect(stdout).toMatch(/0 fail, 4 not applicable/);
    expect(status).toBe(0);
  });
});
