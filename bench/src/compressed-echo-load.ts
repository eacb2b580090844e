/**
 * The load role of the permessage-deflate benchmark (`deflate-bench.ts`), run in its own
 * process: raw TCP connections that speak permessage-deflate themselves. They offer
 * `client_no_context_takeover`, so one compressed frame (compressed once with @ws/core) is
 * valid for every message of every connection, and count the server's replies by parsing frame
 * headers, inflating the first reply of each connection to check it.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { acceptPerMessageDeflateResponse, Opcode, parseExtensionOffers, PerMessageDeflate } from '@ws/core';
import { maskedFrame, openRawPeer, ServerFrameReader } from './raw-peer.js';

/** Messages each connection keeps in flight. */
export const WINDOW = 2;

/** JSON-like text, the kind of message compression is for: about 2.6 KiB. */
export const MESSAGE = Buffer.from(
  JSON.stringify(
    Array.from({ length: 48 }, (_, index) => ({ id: 1000 + index, user: `user-${(index * 7919) % 997}`, online: index % 3 === 0, score: (index * 37) % 101 })),
  ),
);

export interface LoadSettings {
  port: number;
  connections: number;
  /** The Sec-WebSocket-Extensions offer ('' for none: the uncompressed baseline). */
  offer: string;
  seconds?: number;
  /** Open the connections, exchange one message on each, and wait for a line on stdin. */
  idle?: boolean;
}

/** What a throughput run reports. */
export interface LoadResult {
  messagesPerSecond: number;
  compressedShare: number;
  cpuShare: number;
  wireBytes: number;
}

/** Counts the server's messages from its frame headers (server frames are unmasked), across reads. */
class ReplyCounter {
  readonly #reader = new ServerFrameReader();
  #inMessage = false;
  compressed = 0;
  /** The first compressed reply's payload, kept to check that it inflates to the message. */
  firstCompressed: Buffer | undefined;

  /** Takes a chunk; returns how many messages it completed. */
  push(chunk: Buffer): number {
    let completed = 0;
    for (const frame of this.#reader.push(chunk)) {
      if (frame.opcode >= 8) continue;
      if (!this.#inMessage && frame.rsv1) {
        this.compressed++;
        this.firstCompressed ??= Buffer.from(frame.payload);
      }
      this.#inMessage = !frame.fin;
      if (frame.fin) completed++;
    }
    return completed;
  }
}

interface OpenConnection {
  socket: Socket;
  counter: ReplyCounter;
  extensions: string;
}

async function openAll(settings: LoadSettings): Promise<OpenConnection[]> {
  const opened: OpenConnection[] = [];
  // In batches, so that the server's accept queue never overflows.
  for (let start = 0; start < settings.connections; start += 200) {
    const batch = Array.from({ length: Math.min(200, settings.connections - start) }, async () => {
      const { socket, rest, extensions } = await openRawPeer(settings.port, settings.offer === '' ? {} : { offer: settings.offer });
      if (settings.offer !== '' && !extensions.startsWith('permessage-deflate')) {
        throw new Error(`permessage-deflate was not negotiated: "${extensions}"`);
      }
      const counter = new ReplyCounter();
      if (rest.length > 0) counter.push(rest);
      return { socket, counter, extensions };
    });
    opened.push(...(await Promise.all(batch)));
  }
  return opened;
}

/**
 * The message compressed once, valid for every message of every connection: the offer has
 * `client_no_context_takeover`, so each message starts from an empty window.
 */
function compressedFrame(extensions: string): Buffer {
  const deflate = acceptPerMessageDeflateResponse(parseExtensionOffers(extensions)[0]!, { clientNoContextTakeover: true, threshold: 0 });
  const payload = Buffer.from(deflate.encode(MESSAGE, true));
  deflate.dispose();
  return maskedFrame({ opcode: Opcode.Text, rsv1: true, payload });
}

/** The server's first compressed reply on a connection inflates to the message (checked on a sample). */
function checkReplies(connections: readonly OpenConnection[]): void {
  for (const { counter, extensions } of connections.slice(0, 20)) {
    if (counter.firstCompressed === undefined) throw new Error('the server did not compress its reply');
    const deflate = new PerMessageDeflate({ decompressNoContextTakeover: extensions.includes('server_no_context_takeover') });
    const inflated = deflate.decode(counter.firstCompressed, true, 1 << 20);
    deflate.dispose();
    if (inflated instanceof Error || !Buffer.from(inflated).equals(MESSAGE)) throw new Error('a compressed reply did not inflate to the message');
  }
}

/**
 * Opens the connections and either keeps WINDOW messages in flight on each for
 * `settings.seconds`, then prints a {@link LoadResult}, or (`idle`) sends one message on each,
 * prints how many are open, and holds them until a line arrives on stdin.
 */
export async function generateCompressedLoad(settings: LoadSettings): Promise<void> {
  const connections = await openAll(settings);
  const compressing = settings.offer !== '';
  const frame = compressing ? compressedFrame(connections[0]!.extensions) : maskedFrame({ opcode: Opcode.Text, payload: MESSAGE });
  if (settings.idle === true) {
    // One message each, so that every engine a connection keeps has been created, then idle.
    let waiting = connections.length;
    await new Promise<void>((resolve) => {
      for (const { socket, counter } of connections) {
        socket.on('data', (chunk: Buffer) => {
          if (counter.push(chunk) > 0 && --waiting === 0) resolve();
        });
        socket.write(frame);
      }
    });
    if (compressing) checkReplies(connections);
    process.stdout.write(`${JSON.stringify({ opened: connections.length, wireBytes: frame.length })}\n`);
    await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
    for (const { socket } of connections) socket.destroy();
    return;
  }
  const burst = Buffer.concat(Array.from({ length: WINDOW }, () => frame));
  let messages = 0;
  let running = true;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const { socket, counter } of connections) {
    socket.on('data', (chunk: Buffer) => {
      const replies = counter.push(chunk);
      if (replies === 0) return;
      messages += replies;
      if (!running) return;
      if (replies === WINDOW) socket.write(burst);
      else for (let index = 0; index < replies; index++) socket.write(frame);
    });
    socket.write(burst);
  }
  await new Promise((resolve) => setTimeout(resolve, settings.seconds! * 1000));
  running = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const counted = messages;
  checkReplies(connections);
  const compressed = connections.reduce((sum, { counter }) => sum + counter.compressed, 0);
  for (const { socket } of connections) socket.destroy();
  process.stdout.write(
    `${JSON.stringify({
      messagesPerSecond: counted / seconds,
      compressedShare: compressed / Math.max(1, counted),
      cpuShare: (cpu.user + cpu.system) / 1e6 / seconds,
      wireBytes: frame.length,
    })}\n`,
  );
}
