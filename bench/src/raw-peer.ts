/**
 * A WebSocket client peer over a bare TCP socket, for the hostile-load benchmark: it writes
 * whatever bytes it is told to (well-formed or not), with no WebSocket library deciding for it,
 * and reads the server's frames with a small parser. Used by the attacker, the probe and the
 * orchestrator's after-the-attack check.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { encodeFrame, type FrameFields } from '@ws/core/wire';

export interface RawPeer {
  readonly socket: Socket;
  /** Bytes that arrived after the 101 response in the same read. */
  readonly rest: Buffer;
  /** The server's Sec-WebSocket-Extensions answer ('' for none). */
  readonly extensions: string;
}

export interface RawPeerOptions {
  readonly path?: string;
  /** A Sec-WebSocket-Extensions offer. */
  readonly offer?: string;
  /** Gives up after this many ms (connect and handshake). */
  readonly timeout?: number;
}

/** Connects to 127.0.0.1:`port` and completes the opening handshake. */
export function openRawPeer(port: number, options: RawPeerOptions = {}): Promise<RawPeer> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  socket.write(
    `GET ${options.path ?? '/'} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      (options.offer === undefined ? '' : `Sec-WebSocket-Extensions: ${options.offer}\r\n`) +
      '\r\n',
  );
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error('handshake timed out')), options.timeout ?? 10_000);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onClose);
      const head = received.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) {
        fail(new Error(head.split('\r\n')[0]));
        return;
      }
      const extensions = /^sec-websocket-extensions: *(.*)$/im.exec(head)?.[1]?.trim() ?? '';
      resolve({ socket, rest: received.subarray(end + 4), extensions });
    };
    const onClose = (): void => fail(new Error('closed during the handshake'));
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onClose);
  });
}

/** A client frame: masked with a fresh random key (RFC 6455 §5.3). */
export function maskedFrame(fields: Omit<FrameFields, 'maskKey'>): Buffer {
  return encodeFrame({ ...fields, maskKey: randomBytes(4) });
}

export interface ServerFrame {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Splits the server's byte stream into frames (unmasked, as a server's are), across reads. */
export class ServerFrameReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ServerFrame[] {
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: ServerFrame[] = [];
    let offset = 0;
    while (data.length - offset >= 2) {
      const first = data[offset]!;
      const short = data[offset + 1]! & 0x7f;
      let header = 2;
      let length = short;
      if (short === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (short === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (data.length - offset < header + length) break;
      frames.push({
        fin: (first & 0x80) !== 0,
        rsv1: (first & 0x40) !== 0,
        opcode: first & 0x0f,
        payload: data.subarray(offset + header, offset + header + length),
      });
      offset += header + length;
    }
    this.#pending = offset === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(offset));
    return frames;
  }
}

/** The status code of a close frame's payload (1005 when it has none). */
export function closeCodeOf(payload: Buffer): number {
  return payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
}
