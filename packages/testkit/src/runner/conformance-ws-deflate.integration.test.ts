import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { type TestServer, startTestServer } from '../peer/start-test-server.js';
import type { ConformanceReport } from './conformance-report.js';
import { runConformance } from './run-conformance.js';

/**
 * Sections 12 and 13 (permessage-deflate) validated against `ws` with compression on, in both
 * roles: every case passes — none informational, so compression was negotiated each time —
 * and the other sections' outcomes are not disturbed by compression being on.
 */

const outcomes = (report: ConformanceReport) => {
  const counts: Record<string, number> = {};
  for (const result of report.results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
  return counts;
};

function failures(report: ConformanceReport): string[] {
  return report.results.filter((result) => result.outcome !== 'pass').map((result) => `${result.id} ${result.outcome}: ${result.reason}`);
}

function wsEchoClient(url: string): Promise<void> {
  return new Promise((resolve) => {
    const client = new WebSocket(url, { perMessageDeflate: true });
    client.on('message', (data, isBinary) => client.send(data, { binary: isBinary }));
    client.on('error', () => undefined);
    client.on('close', () => resolve());
  });
}

describe('sections 12 and 13 against ws with permessage-deflate on', () => {
  let server: TestServer;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => undefined);
  });

  beforeAll(async () => {
    server = await startTestServer((request, socket, head) =>
      wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request)),
    );
  });
  afterAll(async () => {
    await server.close();
    wss.close();
  });

  it('passes every case as a server', { timeout: 120_000 }, async () => {
    const report = await runConformance({ target: server.url, agent: 'ws', deflate: true, cases: '12.*,13.*' });
    expect(report.summary.total).toBe(150);
    expect(failures(report)).toEqual([]);
  });

  it('passes every case as a client', { timeout: 120_000 }, async () => {
    const report = await runConformance({ target: { client: wsEchoClient }, agent: 'ws', cases: '12.*,13.*' });
    expect(report.summary.total).toBe(140);
    expect(failures(report)).toEqual([]);
  });

  it('declines to be a vacuous pass: a server without compression gets informational outcomes only', { timeout: 60_000 }, async () => {
    const plain = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    plain.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    const uncompressed = await startTestServer((request, socket, head) =>
      plain.handleUpgrade(request, socket, head, (client) => plain.emit('connection', client, request)),
    );
    try {
      const report = await runConformance({ target: uncompressed.url, agent: 'ws', cases: '12.1.*,13.3.1' });
      expect(outcomes(report)).toEqual({ informational: 11 });
      expect(report.results[0]!.reason).toMatch(/^permessage-deflate not negotiated: the server declined "permessage-deflate; client_max_window_bits"/);
    } finally {
      await uncompressed.close();
      plain.close();
    }
  });
});
