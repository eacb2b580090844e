import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as core from '@ws/core';
import { type ProtocolEvent, buildAcceptResponse, validateUpgradeRequest } from '@ws/core';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { extractSnippets } from './extract-snippets.js';
import { runSnippet } from './run-snippet.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The root README's sans-I/O loop, read from the README at test time. */
function sansIoLoop() {
  const snippet = extractSnippets(readFileSync(README, 'utf8'), 'README.md').find(
    (candidate) => candidate.code.includes("from '@ws/core'") && candidate.code.includes('dataToSend()'),
  );
  if (snippet === undefined) throw new Error('README.md has no block driving ServerProtocol over a socket any more');
  return snippet;
}

/**
 * The opening handshake, the part the README leaves out: reads the request head, checks it
 * with core's `validateUpgradeRequest`, answers 101, and hands back whatever followed the head.
 */
function acceptHandshake(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const [requestLine = '', ...fields] = received.subarray(0, end).toString('latin1').split('\r\n');
      const [method, , version = ''] = requestLine.split(' ');
      const headers: Record<string, string> = {};
      for (const field of fields) {
        const colon = field.indexOf(':');
        headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
      }
      try {
        const { key } = validateUpgradeRequest({ method, httpVersion: version.replace('HTTP/', ''), headers });
        socket.write(buildAcceptResponse({ key }));
      } catch (error) {
        reject(error);
        return;
      }
      const rest = received.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve();
    };
    socket.on('data', onData);
  });
}

let server: Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

it("runs the root README's sans-I/O loop on a real socket: echoes nothing by itself, answers pings, and ends the closing handshake with a half-close", async () => {
  const snippet = sansIoLoop();
  const events: ProtocolEvent[] = [];
  const eventArrived: ((event: ProtocolEvent) => void)[] = [];
  const handle = (event: ProtocolEvent): void => {
    events.push(event);
    eventArrived.shift()?.(event);
  };
  const nextEvent = () => new Promise<ProtocolEvent>((resolve) => eventArrived.push(resolve));
  const serverSockets: Socket[] = [];
  server = createServer((socket) => {
    serverSockets.push(socket);
    acceptHandshake(socket).then(
      () => runSnippet(snippet, { socket, handle }, { '@ws/core': core }),
      () => socket.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await once(client, 'open');

  let arrived = nextEvent();
  client.send('hello');
  expect(await arrived).toMatchObject({ type: 'message', isBinary: false });
  expect(String((events[0] as core.MessageReceived).data)).toBe('hello');

  arrived = nextEvent();
  const pong = once(client, 'pong');
  client.ping('are you there?');
  expect(String((await pong)[0])).toBe('are you there?');
  expect(await arrived).toMatchObject({ type: 'ping' });

  arrived = nextEvent();
  const closed = once(client, 'close');
  client.close(1000, 'bye');
  expect(await arrived).toMatchObject({ type: 'close', code: 1000, reason: 'bye' });
  // `ws` reports the close once TCP is closed: the loop's socket.end() on SEND_EOF did it,
  // or this would wait for ws's 30-second close timer and time out.
  const [code, reason] = await closed;
  expect([code, String(reason)]).toEqual([1000, 'bye']);
  expect(serverSockets[0]!.writableEnded).toBe(true);
});
