import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AutobahnServer } from './autobahn-server.js';
import { failedCases } from './conformance-report.js';

const servers: AutobahnServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** One request of the Autobahn client protocol: connect, collect text messages, wait for the close. */
function request(url: string, echo = false): Promise<string[]> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    const client = new WebSocket(url);
    client.on('message', (data, isBinary) => {
      if (echo) client.send(data, { binary: isBinary });
      else messages.push(data.toString());
    });
    client.on('error', () => undefined);
    client.on('close', () => resolve(messages));
  });
}

/** The driver every Autobahn-tested client has, written with ws. */
async function autobahnDriver(base: string, agent: string): Promise<void> {
  const [count] = await request(`${base}/getCaseCount`);
  for (let index = 1; index <= Number(count); index++) {
    await request(`${base}/runCase?case=${index}&agent=${agent}`, true);
  }
  await request(`${base}/updateReports?agent=${agent}`);
}

describe('AutobahnServer', () => {
  it('runs the whole client catalogue for a ws client driven through the Autobahn protocol', async () => {
    const server = await AutobahnServer.listen({ port: 0, timeouts: { failFast: 300 } });
    servers.push(server);
    const reported = server.waitForReport();
    await autobahnDriver(server.url, 'ws');
    const report = await reported;
    expect(report.agent).toBe('ws');
    expect(report.summary.total).toBe(261);
    expect(failedCases(report)).toEqual([]);
    expect(report.results.map((result) => result.id)).toEqual(server.cases.map((conformanceCase) => conformanceCase.id));
  });

  it('answers case info and status, and refuses unknown paths and cases', async () => {
    const server = await AutobahnServer.listen({ port: 0, cases: '1.1.1,2.1' });
    servers.push(server);
    expect(await request(`${server.url}/getCaseCount`)).toEqual(['2']);
    const [info] = await request(`${server.url}/getCaseInfo?case=2`);
    expect(JSON.parse(info!)).toMatchObject({ id: '2.1', description: expect.stringContaining('ping') });
    expect(JSON.parse((await request(`${server.url}/getCaseStatus?case=1&agent=x`))[0]!)).toEqual({ behavior: 'UNKNOWN' });
    await request(`${server.url}/runCase?case=1&agent=x`, true);
    expect(JSON.parse((await request(`${server.url}/getCaseStatus?case=1&agent=x`))[0]!)).toEqual({ behavior: 'OK' });
    const refused = await new Promise<number>((resolve) => {
      const client = new WebSocket(`${server.url}/runCase?case=3&agent=x`);
      client.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      client.on('error', () => undefined);
    });
    expect(refused).toBe(404);
    expect(server.report('x').results.map((result) => [result.id, result.outcome])).toEqual([['1.1.1', 'pass']]);
  });
});
