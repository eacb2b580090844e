import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  acceptPerMessageDeflate,
  acceptPerMessageDeflateResponse,
  offerPerMessageDeflate,
  parseExtensionOffers,
  type PerMessageDeflate,
  type PerMessageDeflateClientOptions,
  type PerMessageDeflateServerOptions,
} from '@ws/core';

// ws exports only its entry point; its permessage-deflate and header helpers are loaded by path.
const require = createRequire(import.meta.url);
const wsDirectory = dirname(require.resolve('ws'));

type Callback = (error: Error | null, result: Buffer) => void;
type WsParams = Record<string, string | number | true>;
interface WsPerMessageDeflate {
  offer(): WsParams;
  accept(configurations: unknown): WsParams;
  compress(data: Buffer, fin: boolean, callback: Callback): void;
  decompress(data: Buffer, fin: boolean, callback: Callback): void;
  cleanup(): void;
}
interface WsOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}
const WsPerMessageDeflateClass = require(join(wsDirectory, 'lib/permessage-deflate.js')) as new (
  options: WsOptions & { isServer: boolean; maxPayload: number },
) => WsPerMessageDeflate;
const wsExtension = require(join(wsDirectory, 'lib/extension.js')) as {
  parse(header: string): Record<string, unknown>;
  format(extensions: Record<string, WsParams[]>): string;
};

function wsCall(method: 'compress' | 'decompress', ws: WsPerMessageDeflate, data: Buffer, fin: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    ws[method](data, fin, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
}

interface Message {
  data: Buffer;
  /** Where the message is cut into fragments. */
  cuts: number[];
}

function pseudoText(byteLength: number, seed: number): Buffer {
  const words = ['json', '"id":', '12345', '{"user":', '"name"', 'true', 'false', '},', 'é', '€'];
  const parts: string[] = [];
  let length = 0;
  let state = seed;
  while (length < byteLength) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const word = words[state % words.length]!;
    parts.push(word);
    length += Buffer.byteLength(word);
  }
  return Buffer.from(parts.join(''));
}

// Each message twice in a row, so that context takeover, where agreed, is exercised.
const MESSAGES: Message[] = [
  { data: Buffer.alloc(0), cuts: [] },
  { data: Buffer.from('x'), cuts: [] },
  { data: pseudoText(1000, 1), cuts: [] },
  { data: pseudoText(1000, 1), cuts: [] },
  { data: pseudoText(100 * 1024, 2), cuts: [] },
  { data: pseudoText(100 * 1024, 2), cuts: [] },
  { data: pseudoText(20_000, 3), cuts: [5000, 5000, 12_000] },
  { data: pseudoText(20_000, 3), cuts: [1, 19_999] },
];

function fragmentsOf(message: Message): Buffer[] {
  const edges = [0, ...message.cuts, message.data.length];
  return edges.slice(1).map((end, index) => message.data.subarray(edges[index], end));
}

async function ourEncodeWsDecode(ours: PerMessageDeflate, ws: WsPerMessageDeflate): Promise<void> {
  for (const message of MESSAGES) {
    const fragments = fragmentsOf(message);
    const decoded: Buffer[] = [];
    for (const [index, fragment] of fragments.entries()) {
      const fin = index === fragments.length - 1;
      decoded.push(await wsCall('decompress', ws, Buffer.from(ours.encode(fragment, fin)), fin));
    }
    expect(Buffer.concat(decoded).equals(message.data)).toBe(true);
  }
}

async function wsEncodeOurDecode(ws: WsPerMessageDeflate, ours: PerMessageDeflate): Promise<void> {
  for (const message of MESSAGES) {
    const fragments = fragmentsOf(message);
    const decoded: Buffer[] = [];
    for (const [index, fragment] of fragments.entries()) {
      const fin = index === fragments.length - 1;
      const result = ours.decode(await wsCall('compress', ws, fragment, fin), fin, Infinity);
      if (!(result instanceof Uint8Array)) throw result;
      decoded.push(Buffer.from(result));
    }
    expect(Buffer.concat(decoded).equals(message.data)).toBe(true);
  }
}

const WS_CLIENT_OPTIONS: WsOptions[] = [
  {},
  { serverNoContextTakeover: true },
  { clientNoContextTakeover: true },
  { serverMaxWindowBits: 10 },
  { clientMaxWindowBits: 9 },
  { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 12 },
];
const OUR_SERVER_OPTIONS: PerMessageDeflateServerOptions[] = [
  {},
  { serverNoContextTakeover: false },
  { clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 13, level: 9 },
];

describe('interop with ws: a ws client and our server', () => {
  const cases = WS_CLIENT_OPTIONS.flatMap((client) => OUR_SERVER_OPTIONS.map((server) => ({ client, server })));

  it.each(cases)('ws client $client, our server $server', async ({ client, server }) => {
    const wsClient = new WsPerMessageDeflateClass({ ...client, isServer: false, maxPayload: 0 });
    const offer = wsExtension.format({ 'permessage-deflate': [wsClient.offer()] });
    const accepted = acceptPerMessageDeflate(
      parseExtensionOffers(offer, 'Sec-WebSocket-Extensions', { markRepeatedParams: true }),
      { ...server, threshold: 0 },
    );
    expect(accepted).toBeDefined();
    // ws's own check of the response (it throws on anything it would fail the connection for).
    wsClient.accept(wsExtension.parse(accepted!.response)['permessage-deflate']);
    try {
      await wsEncodeOurDecode(wsClient, accepted!.extension);
      await ourEncodeWsDecode(accepted!.extension, wsClient);
    } finally {
      wsClient.cleanup();
      accepted!.extension.dispose();
    }
  });
});

const OUR_CLIENT_OPTIONS: PerMessageDeflateClientOptions[] = [
  {},
  { serverNoContextTakeover: true },
  { clientNoContextTakeover: true },
  { serverMaxWindowBits: 13, clientMaxWindowBits: 11 },
  { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 14, clientMaxWindowBits: 12 },
];
const WS_SERVER_OPTIONS: WsOptions[] = [
  {},
  { serverNoContextTakeover: true, clientNoContextTakeover: true },
  { serverMaxWindowBits: 12, clientMaxWindowBits: 10 },
];

describe('interop with ws: our client and a ws server', () => {
  const cases = OUR_CLIENT_OPTIONS.flatMap((client) => WS_SERVER_OPTIONS.map((server) => ({ client, server })));

  it.each(cases)('our client $client, ws server $server', async ({ client, server }) => {
    const options = { ...client, threshold: 0 };
    const wsServer = new WsPerMessageDeflateClass({ ...server, isServer: true, maxPayload: 0 });
    const params = wsServer.accept(wsExtension.parse(offerPerMessageDeflate(options))['permessage-deflate']);
    const response = wsExtension.format({ 'permessage-deflate': [params] });
    const ours = acceptPerMessageDeflateResponse(parseExtensionOffers(response)[0]!, options);
    try {
      await wsEncodeOurDecode(wsServer, ours);
      await ourEncodeWsDecode(ours, wsServer);
    } finally {
      wsServer.cleanup();
      ours.dispose();
    }
  });
});
