/**
 * The least work a WebSocket echo can do on Node's socket layer, as a ceiling for the benchmark:
 * what Node itself costs (the `'data'` events of an upgraded `net.Socket`, its reads of up to
 * 64 KiB, `writev`) with the protocol reduced to framing. It is not a WebSocket server one could
 * use: it checks nothing (no RSV bits, opcodes, UTF-8, limits, close handshake), answers every
 * frame with the same frame unmasked, and unmasks with `bufferutil`, the native addon the
 * published packages do not use.
 *
 * Per chunk read, every complete frame is unmasked in place and its header and payload are
 * queued as views of the chunk; a frame that continues into the next chunk is copied into a
 * buffer of its own size as the chunks come. Everything one chunk answers is written under one
 * `cork` (one `writev`): the batching the benchmark's load rewards, as a well-written Node server
 * would do it.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

const { unmask } = createRequire(import.meta.url)('bufferutil') as { unmask: (buffer: Buffer, mask: Buffer) => void };

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Answers the upgrade with a 101 and echoes every frame on `socket`. */
export function startMinimalEcho(request: IncomingMessage, socket: Duplex, head: Buffer): void {
  const key = request.headers['sec-websocket-key'] ?? '';
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  (socket as Duplex & { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
  const echo = new FrameEcho(socket);
  socket.on('data', (chunk: Buffer) => echo.receive(chunk));
  socket.on('error', () => socket.destroy());
  if (head.length > 0) echo.receive(head);
}

class FrameEcho {
  readonly #socket: Duplex;
  /** Bytes of an unfinished header, kept from the previous chunk. */
  #partialHeader: Buffer | undefined;
  /** The frame being assembled across chunks: its reply header, mask, payload and bytes so far. */
  #header: Buffer | undefined;
  #mask: Buffer | undefined;
  #payload: Buffer | undefined;
  #filled = 0;

  constructor(socket: Duplex) {
    this.#socket = socket;
  }

  receive(chunk: Buffer): void {
    const replies: Buffer[] = [];
    let offset = 0;
    if (this.#payload !== undefined) offset = this.#continuePayload(chunk, replies);
    if (this.#partialHeader !== undefined) {
      chunk = Buffer.concat([this.#partialHeader, chunk.subarray(offset)]);
      this.#partialHeader = undefined;
      offset = 0;
    }
    while (offset < chunk.length) {
      const parsed = parseHeader(chunk, offset);
      if (parsed === undefined) {
        this.#partialHeader = Buffer.from(chunk.subarray(offset));
        break;
      }
      const { replyHeader, mask, payloadStart, length } = parsed;
      if (payloadStart + length <= chunk.length) {
        const payload = chunk.subarray(payloadStart, payloadStart + length);
        if (length > 0) unmask(payload, mask);
        replies.push(replyHeader, payload);
        offset = payloadStart + length;
      } else {
        this.#header = replyHeader;
        this.#mask = Buffer.from(mask);
        this.#payload = Buffer.allocUnsafe(length);
        this.#filled = chunk.copy(this.#payload, 0, payloadStart);
        offset = chunk.length;
      }
    }
    this.#write(replies);
  }

  /** Copies the next part of the frame being assembled; returns where the chunk's unused bytes start. */
  #continuePayload(chunk: Buffer, replies: Buffer[]): number {
    const payload = this.#payload!;
    const taken = chunk.copy(payload, this.#filled, 0, Math.min(chunk.length, payload.length - this.#filled));
    this.#filled += taken;
    if (this.#filled < payload.length) return taken;
    unmask(payload, this.#mask!);
    replies.push(this.#header!, payload);
    this.#payload = this.#header = this.#mask = undefined;
    return taken;
  }

  #write(replies: Buffer[]): void {
    if (replies.length === 0) return;
    const socket = this.#socket;
    socket.cork();
    for (const reply of replies) socket.write(reply);
    socket.uncork();
  }
}

interface ParsedHeader {
  readonly replyHeader: Buffer;
  readonly mask: Buffer;
  readonly payloadStart: number;
  readonly length: number;
}

/** The masked header at `offset` and the unmasked header of its echo, or undefined if incomplete. */
function parseHeader(chunk: Buffer, offset: number): ParsedHeader | undefined {
  if (chunk.length - offset < 2) return undefined;
  const first = chunk[offset]!;
  const short = chunk[offset + 1]! & 0x7f;
  const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
  const maskStart = offset + 2 + lengthBytes;
  if (chunk.length < maskStart + 4) return undefined;
  const length = short === 126 ? chunk.readUInt16BE(offset + 2) : short === 127 ? Number(chunk.readBigUInt64BE(offset + 2)) : short;
  const replyHeader = Buffer.allocUnsafe(2 + lengthBytes);
  replyHeader[0] = first;
  replyHeader[1] = short;
  if (lengthBytes > 0) chunk.copy(replyHeader, 2, offset + 2, maskStart);
  return { replyHeader, mask: chunk.subarray(maskStart, maskStart + 4), payloadStart: maskStart + 4, length };
}
