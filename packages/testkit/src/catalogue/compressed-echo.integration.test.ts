import {
  acceptPerMessageDeflate,
  buildAcceptResponse,
  PerMessageDeflate,
  type PerMessageDeflateParameters,
  ServerProtocol,
  validateUpgradeRequest,
} from '@ws/core';
import { Connection, resolveConnectionOptions, SERVER_DEFAULTS } from '@ws/core/node';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../peer/start-test-server.js';
import { runConformance } from '../runner/run-conformance.js';

/**
 * The compression cases must be able to fail. These servers negotiate permessage-deflate
 * correctly and then break what they agreed to, each in one way; the cases that exercise the
 * broken rule fail, with the observer's reason.
 */

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** An echo server whose compressor is built with `lie` instead of the agreed parameters. */
async function lyingServer(lie: PerMessageDeflateParameters): Promise<string> {
  server = await startTestServer((request, socket, head) => {
    const { key, extensions } = validateUpgradeRequest({ method: request.method ?? '', httpVersion: request.httpVersion, headers: request.headers });
    const accepted = acceptPerMessageDeflate(extensions, { serverNoContextTakeover: false });
    socket.write(buildAcceptResponse({ key, extensions: accepted?.response }));
    const agreed = accepted!.extension.parameters;
    accepted!.extension.dispose();
    const deflate = new PerMessageDeflate({ ...agreed, threshold: 0, ...lie });
    const connection = new Connection(socket, new ServerProtocol({ extensions: [deflate] }), {
      settings: resolveConnectionOptions({}, SERVER_DEFAULTS),
      head,
    });
    connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    connection.start();
  });
  return server.url;
}

const failedIds = async (url: string, cases: string) =>
  (await runConformance({ target: url, cases })).results.filter((result) => result.outcome === 'fail');

describe('compressed echo cases against servers that break the agreement', () => {
  it('fail when the server compresses with a larger window than server_max_window_bits', async () => {
    const url = await lyingServer({ compressMaxWindowBits: 15 });
    // 13.7 agrees on server_max_window_bits=9; 13.8 (15) is the control and passes.
    const failed = await failedIds(url, '13.7.5,13.8.5');
    expect(failed.map((result) => result.id)).toEqual(['13.7.5']);
    expect(failed[0]!.reason).toMatch(/compressed message that does not inflate with the agreed parameters/);
  });

  it('fail when the server keeps its context despite server_no_context_takeover', async () => {
    const url = await lyingServer({ compressNoContextTakeover: false });
    const failed = await failedIds(url, '13.3.5,13.1.5');
    expect(failed.map((result) => result.id)).toEqual(['13.3.5']);
    expect(failed[0]!.reason).toMatch(/does not inflate/);
  });
});
