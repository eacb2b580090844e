import { afterAll, beforeAll } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { describeClientConformance, describeConformance } from '@ws/testkit/vitest';

/**
 * The helpers as a downstream project uses them: one vitest test per case, here against `ws`
 * for a few sections (the full runs are in runner/conformance-ws.integration.test.ts).
 */
let url = '';
let wss: WebSocketServer;
beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => undefined);
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

describeConformance('ws server', () => url, {
  cases: '1.*,2.*,6.4.*,10.3.1',
  timeouts: { failFast: 200 },
  expect: { '6.4.*': 'non-strict', '10.3.1': 'non-strict' },
});

describeClientConformance(
  'ws client',
  (caseUrl) =>
    new Promise<void>((resolve) => {
      const client = new WebSocket(caseUrl);
      client.on('message', (data, isBinary) => client.send(data, { binary: isBinary }));
      client.on('error', () => undefined);
      client.on('close', () => resolve());
    }),
  { cases: '3.*,5.*,10.6.*', strict: true },
);
