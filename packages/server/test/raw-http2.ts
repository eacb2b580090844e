import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { type ClientHttp2Session, type ClientHttp2Stream, connect, type IncomingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { Opcode } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { readFrames, type WireFrame } from '../../core/test/read-frames.js';

/** An HTTP/2 session that has received the server's SETTINGS. */
export async function openSession(origin: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = connect(origin, options);
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  return session;
}

export interface RawWebSocket {
  readonly stream: ClientHttp2Stream;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Sends one masked frame. */
  send(opcode: number, payload?: Buffer | string): void;
  /** Resolves with the next `count` frames the server sent. */
  frames(count: number): Promise<WireFrame[]>;
}

/** Opens an extended CONNECT by hand (RFC 8441 §5) and waits for the response head. */
export async function openRawWebSocket(
  session: ClientHttp2Session,
  path = '/',
  headers: Record<string, string | undefined> = {},
): Promise<RawWebSocket> {
  const fields: Record<string, string> = {};
  const all: Record<string, string | undefined> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': session.encrypted ? 'https' : 'http',
    ':path': path,
    ':authority': 'localhost',
    'sec-websocket-version': '13',
    ...headers,
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) fields[name] = value;
  const stream = session.request(fields, { endStream: false });
  stream.on('error', () => {});
  let buffered = Buffer.alloc(0);
  const waiting: { count: number; resolve: (frames: WireFrame[]) => void }[] = [];
  let parsed: WireFrame[] = [];
  const settle = (): void => {
    while (waiting.length > 0 && parsed.length >= waiting[0]!.count) {
      const next = waiting.shift()!;
      next.resolve(parsed.splice(0, next.count));
    }
  };
  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (let length = wholeFrameLength(buffered); length > 0; length = wholeFrameLength(buffered)) {
      parsed = parsed.concat(readFrames(buffered.subarray(0, length)));
      buffered = buffered.subarray(length);
    }
    settle();
  });
  const [responseHeaders] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  return {
    stream,
    status: Number(responseHeaders[':status']),
    headers: responseHeaders,
    send(opcode: number, payload: Buffer | string = Buffer.alloc(0)) {
      stream.write(encodeFrame({ opcode: opcode as Opcode, payload, maskKey: Buffer.from([1, 2, 3, 4]) }));
    },
    frames(count: number) {
      return new Promise((resolve) => {
        waiting.push({ count, resolve });
        settle();
      });
    },
  };
}

/** The length of the unmasked frame at the start of `bytes`, or 0 when it has not all arrived. */
function wholeFrameLength(bytes: Buffer): number {
  if (bytes.length < 2) return 0;
  const short = bytes[1]! & 0x7f;
  const headerLength = short === 126 ? 4 : short === 127 ? 10 : 2;
  if (bytes.length < headerLength) return 0;
  const payloadLength = short === 126 ? bytes.readUInt16BE(2) : short === 127 ? Number(bytes.readBigUInt64BE(2)) : short;
  const total = headerLength + payloadLength;
  return bytes.length >= total ? total : 0;
}

/** A close frame's payload. */
export function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

export { Opcode };
