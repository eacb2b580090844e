import { afterEach, describe, expect, it } from 'vitest';
import { type ServerOptions, WebSocketServer } from 'ws';
import { ScriptedPeer } from '../peer/scripted-peer.js';
import { ScriptedServer } from '../peer/scripted-server.js';
import { startTestServer } from '../peer/start-test-server.js';
import type { CaseResult } from '../runner/conformance-report.js';
import { runConformance } from '../runner/run-conformance.js';

/**
 * The catalogue must catch broken implementations, not only bless good ones: these run cases
 * against servers and clients that break one rule each, and expect the case to fail.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const timeouts = { response: 300, failFast: 100, close: 300 };

async function wsServerWith(options: ServerOptions): Promise<string> {
  const wss = new WebSocketServer({ ...options, noServer: true });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => undefined);
  });
  const server = await startTestServer((request, socket, head) =>
    wss.handleUpgrade(request, socket, head, (client) => wss.emit('connection', client, request)),
  );
  cleanups.push(() => server.close());
  return server.url;
}

/** A server scripted to misbehave: each accepted connection is handed to `behave`. */
async function scriptedServer(behave: (peer: ScriptedPeer) => Promise<void>): Promise<string> {
  const server = await ScriptedServer.listen({ timeout: 500 });
  let running = true;
  cleanups.push(async () => {
    running = false;
    await server.close();
  });
  void (async () => {
    while (running) {
      const peer = await server.accept({ timeout: Number.POSITIVE_INFINITY }).catch(() => undefined);
      if (peer === undefined) return;
      void behave(peer).catch(() => undefined);
    }
  })();
  return server.url;
}

async function run(target: Parameters<typeof runConformance>[0]['target'], cases: string): Promise<readonly CaseResult[]> {
  return (await runConformance({ target, cases, timeouts })).results;
}

describe('the catalogue fails broken implementations', () => {
  it('fails a server that echoes invalid UTF-8 instead of failing the connection', async () => {
    const url = await wsServerWith({ skipUTF8Validation: true });
    const results = await run(url, '6.3.1,6.12.1,7.5.1');
    expect(results.map((result) => [result.id, result.outcome])).toEqual([
      ['6.3.1', 'fail'],
      ['6.12.1', 'fail'],
      ['7.5.1', 'fail'],
    ]);
    expect(results[0]!.reason).toMatch(/text message that is not valid UTF-8/);
  });

  it('fails a server that does not answer pings', async () => {
    const results = await run(await wsServerWith({ autoPong: false }), '2.1,2.10');
    expect(results.map((result) => result.outcome)).toEqual(['fail', 'fail']);
    expect(results[0]!.reason).toMatch(/expected pong empty, got nothing/);
  });

  it('fails a server whose limit refuses a message the catalogue expects echoed', async () => {
    const results = await run(await wsServerWith({ maxPayload: 1000 }), '1.1.6');
    expect(results[0]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/close frame with code 1009/) });
  });

  it('fails a server that masks its frames', async () => {
    const url = await scriptedServer(async (peer) => {
      const message = await peer.expectMessage();
      await peer.sendFrame({ opcode: 0x1, payload: message.data, mask: true });
    });
    const results = await run(url, '1.1.2');
    expect(results[0]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/a server sent a masked frame/) });
  });

  it('fails a server that keeps TCP open after the closing handshake', async () => {
    const url = await scriptedServer(async (peer) => {
      await peer.expectClose();
      await peer.sendClose(1000);
    });
    const results = await run(url, '7.3.3');
    expect(results[0]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/did not close the TCP connection/) });
  });

  it('fails a server that never replies to a close frame', async () => {
    const url = await scriptedServer(async (peer) => {
      await peer.expectClose();
    });
    const results = await run(url, '7.3.3');
    expect(results[0]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/expected a close frame in reply/) });
  });

  it('makes dropping TCP without a close frame non-strict', async () => {
    const url = await scriptedServer(async (peer) => {
      await peer.nextFrame();
      peer.reset();
    });
    const results = await run(url, '3.1');
    expect(results[0]).toMatchObject({ outcome: 'non-strict', reason: expect.stringMatching(/without a close frame/) });
  });

  it('fails a client that does not mask its frames', async () => {
    const results = await run(
      {
        client: async (url: string) => {
          const peer = await ScriptedPeer.connect(url);
          const message = await peer.expectMessage();
          await peer.sendFrame({ opcode: 0x1, payload: message.data, mask: false });
          await peer.close();
        },
      },
      '1.1.2',
    );
    expect(results[0]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/a client sent an unmasked frame/) });
  });

  it('fails a client that accepts a handshake answer with the wrong Sec-WebSocket-Accept', async () => {
    const results = await run(
      {
        client: async (url: string) => {
          const peer = await ScriptedPeer.connect(url, { handshake: 'raw' });
          const message = await peer.expectMessage();
          await peer.sendText(message.data);
          await peer.close();
        },
      },
      '10.6.1',
    );
    expect(results[0]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/treated the connection as open/) });
  });

  it('fails a case when its implementation is not there', async () => {
    const results = await run('ws://127.0.0.1:1', '1.1.1');
    expect(results[0]).toMatchObject({ outcome: 'fail', reason: expect.stringMatching(/ECONNREFUSED/) });
  });
});
