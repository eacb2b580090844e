import { Buffer } from 'node:buffer';
import type { AddressInfo } from 'node:net';
import { type ServerConnection, WebSocketServer } from '@ws/server';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runEchoClient } from './echo-client.js';

/** What one case of the stand-in fuzzing server sends, and what it expects back. */
const CASES: readonly (readonly { data: string | Buffer; binary: boolean }[])[] = [
  [{ data: 'hello', binary: false }],
  [
    { data: Buffer.from([1, 2, 3]), binary: true },
    { data: 'ünïcödé', binary: false },
    { data: Buffer.alloc(0), binary: true },
  ],
  [{ data: Buffer.alloc(17 * 1024 * 1024, 0xab), binary: true }],
];

let fuzzingServer: WebSocketServer;
let url: string;
let requests: string[];
let echoes: { caseNumber: number; data: Buffer; isBinary: boolean }[];

/**
 * A stand-in for Autobahn's fuzzing server, speaking its protocol: `/getCaseCount` answers the
 * count and closes, `/runCase` sends its messages and closes once all came back,
 * `/updateReports` closes.
 */
beforeEach(async () => {
  requests = [];
  echoes = [];
  fuzzingServer = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    maxMessageSize: 64 * 1024 * 1024,
    heartbeat: false,
  });
  fuzzingServer.on('connection', (connection, request) => {
    const target = new URL(request.url ?? '/', 'ws://fuzzing.test');
    requests.push(`${target.pathname}${target.search}`);
    if (target.pathname === '/getCaseCount') {
      connection.send(String(CASES.length));
      connection.close(1000);
    } else if (target.pathname === '/runCase') {
      runCase(connection, Number(target.searchParams.get('case')));
    } else {
      connection.close(1000);
    }
  });
  await new Promise<void>((resolve) => fuzzingServer.once('listening', () => resolve()));
  url = `ws://127.0.0.1:${(fuzzingServer.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await fuzzingServer.close();
});

function runCase(connection: ServerConnection, caseNumber: number): void {
  const messages = CASES[caseNumber - 1] ?? [];
  let received = 0;
  connection.on('message', (data, isBinary) => {
    echoes.push({ caseNumber, data, isBinary });
    received += 1;
    if (received === messages.length) connection.close(1000, `case ${caseNumber} done`);
  });
  for (const message of messages) connection.send(message.data, { binary: message.binary });
}

it('asks for the case count, runs every case echoing each message with its type, then updates the reports', async () => {
  const logLines: string[] = [];
  const result = await runEchoClient(url, { agent: 'demo agent', log: (line) => logLines.push(line) });

  expect(requests).toEqual([
    '/getCaseCount',
    '/runCase?case=1&agent=demo+agent',
    '/runCase?case=2&agent=demo+agent',
    '/runCase?case=3&agent=demo+agent',
    '/updateReports?agent=demo+agent',
  ]);
  const expected = CASES.flatMap((messages, index) =>
    messages.map(({ data, binary }) => ({
      caseNumber: index + 1,
      data: typeof data === 'string' ? Buffer.from(data) : data,
      isBinary: binary,
    })),
  );
  expect(echoes.length).toBe(expected.length);
  echoes.forEach((echo, index) => {
    const want = expected[index]!;
    expect(echo.caseNumber).toBe(want.caseNumber);
    expect(echo.isBinary).toBe(want.isBinary);
    expect(echo.data.equals(want.data)).toBe(true);
  });
  expect(result).toEqual({
    caseCount: 3,
    outcomes: ['closed 1000 "case 1 done"', 'closed 1000 "case 2 done"', 'closed 1000 "case 3 done"'],
  });
  expect(logLines).toEqual([
    '3 cases to run as agent "demo agent"',
    'case 1/3: closed 1000 "case 1 done"',
    'case 2/3: closed 1000 "case 2 done"',
    'case 3/3: closed 1000 "case 3 done"',
    'reports updated',
  ]);
});

it('goes on with the next case when one refuses the handshake', async () => {
  fuzzingServer.removeAllListeners('connection');
  const refusing = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    heartbeat: false,
    authenticate: (request) =>
      request.url?.startsWith('/runCase?case=1&') === true ? { accept: false, status: 403 } : { accept: true, data: undefined },
  });
  refusing.on('connection', (connection, request) => {
    const target = new URL(request.url ?? '/', 'ws://fuzzing.test');
    if (target.pathname === '/getCaseCount') connection.send('2');
    connection.close(1000);
  });
  await new Promise<void>((resolve) => refusing.once('listening', () => resolve()));
  try {
    const result = await runEchoClient(`ws://127.0.0.1:${(refusing.address() as AddressInfo).port}/`, {
      agent: 'a',
    });
    expect(result.outcomes).toHaveLength(2);
    expect(result.outcomes[0]).toMatch(/^error /);
    expect(result.outcomes[1]).toBe('closed 1000');
  } finally {
    await refusing.close();
  }
});
