/**
 * The attacker process of the hostile-load benchmark: runs one attack against a server, bounded
 * in connections, bytes and time, prints one JSON line ({@link AttackReport}) and exits.
 *
 *   node dist/hostile/hostile-attacker.js '{"attack":"ping-flood","port":N,"limitMs":10000,…}'
 *
 * Every attack but `pipelined` speaks raw TCP (see `raw-peer.ts`); `pipelined` is a
 * well-behaved `ws` client.
 */
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { constants, deflateRawSync } from 'node:zlib';
import { Opcode } from '@ws/core';
import WebSocket from 'ws';
import { closeCodeOf, maskedFrame, openRawPeer, type RawPeer, ServerFrameReader } from './raw-peer.js';

export type AttackSettings =
  | { readonly attack: 'pipelined'; readonly port: number; readonly count: number; readonly size: number; readonly limitMs: number }
  | { readonly attack: 'ping-flood'; readonly port: number; readonly maxBytes: number; readonly limitMs: number }
  | { readonly attack: 'fragment-flood'; readonly port: number; readonly connections: number; readonly fragments: number; readonly limitMs: number }
  | { readonly attack: 'slowloris'; readonly port: number; readonly connections: number; readonly limitMs: number }
  | { readonly attack: 'deflate-bomb'; readonly port: number; readonly connections: number; readonly inflatedSize: number; readonly limitMs: number };

/** What became of one attacking connection (or, for `pipelined`, of the upload). */
export interface Outcome {
  /** e.g. `echoed`, `close 1009`, `reset (ECONNRESET)`, `408, then FIN`, `never within the run`. */
  readonly outcome: string;
  /** ms after the attack started (slowloris: after this connection's own connect); null for "never". */
  readonly atMs: number | null;
}

export interface AttackReport {
  /** Epoch ms (`performance.timeOrigin + performance.now()`) when the attack started. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly outcomes: readonly Outcome[];
  /** Attack-specific figures (bytes written, connections that could not be opened, …). */
  readonly details: Record<string, number | string>;
}

export const NEVER = 'never within the run';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `count` raw peers in batches, so that the server's accept queue never overflows. */
async function openPeers(port: number, count: number, offer?: string): Promise<RawPeer[]> {
  const peers: RawPeer[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start) }, () => openRawPeer(port, { offer }));
    peers.push(...(await Promise.all(batch)));
  }
  return peers;
}

/** Labels a socket error the way the table shows it. */
const resetLabel = (error: Error & { code?: string }): string => `reset (${error.code ?? error.message})`;

/**
 * Writes `stream` on every peer at once and watches what comes back: an echoed message of
 * `expectedLength` bytes, a close frame, a reset, or the end of the stream; until every peer has
 * an outcome or the time is up.
 */
async function sendAndWatch(peers: readonly RawPeer[], stream: Buffer, expectedLength: number | undefined, limitMs: number): Promise<AttackReport> {
  const startedAt = now();
  const outcomes: (Outcome | undefined)[] = peers.map(() => undefined);
  let pending = peers.length;
  let allDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const settle = (index: number, outcome: string): void => {
    if (outcomes[index] !== undefined) return;
    outcomes[index] = { outcome, atMs: now() - startedAt };
    if (--pending === 0) allDone();
  };
  peers.forEach(({ socket, rest }, index) => {
    const reader = new ServerFrameReader();
    let messageLength = 0;
    const onData = (chunk: Buffer): void => {
      for (const frame of reader.push(chunk)) {
        if (frame.opcode === Opcode.Close) {
          settle(index, `close ${closeCodeOf(frame.payload)}`);
        } else if (frame.opcode < 8) {
          messageLength += frame.payload.length;
          if (frame.fin) {
            // Compressed echoes are counted as messages, not checked for length.
            settle(index, expectedLength === undefined || messageLength === expectedLength ? 'echoed' : `echoed ${messageLength} B`);
            messageLength = 0;
          }
        }
      }
    };
    socket.on('data', onData);
    socket.on('error', (error) => settle(index, resetLabel(error)));
    socket.on('end', () => settle(index, 'FIN without a close frame'));
    socket.on('close', () => settle(index, 'closed'));
    if (rest.length > 0) onData(rest);
    socket.write(stream);
  });
  await Promise.race([done, sleep(limitMs)]);
  const durationMs = now() - startedAt;
  for (const { socket } of peers) socket.destroy();
  return {
    startedAt,
    durationMs,
    outcomes: outcomes.map((outcome) => outcome ?? { outcome: NEVER, atMs: null }),
    details: { streamBytes: stream.length },
  };
}

// ---- 1. Pipelined upload from a well-behaved ws client ------------------------------------

async function pipelined(port: number, count: number, size: number, limitMs: number): Promise<AttackReport> {
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(client, 'open');
  const startedAt = now();
  let echoed = 0;
  let outcome: Outcome | undefined;
  const finished = new Promise<void>((resolve) => {
    client.on('message', (data: Buffer) => {
      if (data.length === size) echoed++;
      if (echoed === count) {
        outcome ??= { outcome: `echoed ${echoed}/${count}`, atMs: now() - startedAt };
        resolve();
      }
    });
    client.on('close', (code) => {
      outcome ??= { outcome: `close ${code} after ${echoed}/${count} echoed`, atMs: now() - startedAt };
      resolve();
    });
    client.on('error', (error: Error & { code?: string }) => {
      outcome ??= { outcome: `${resetLabel(error)} after ${echoed}/${count} echoed`, atMs: now() - startedAt };
      resolve();
    });
  });
  for (let index = 0; index < count; index++) client.send(Buffer.alloc(size, index));
  await Promise.race([finished, sleep(limitMs)]);
  const durationMs = now() - startedAt;
  client.terminate();
  return {
    startedAt,
    durationMs,
    outcomes: [outcome ?? { outcome: `${NEVER} (${echoed}/${count} echoed)`, atMs: null }],
    details: { echoed, count, size },
  };
}

// ---- 2. Ping flood from a peer that never reads --------------------------------------------

async function pingFlood(port: number, maxBytes: number, limitMs: number): Promise<AttackReport> {
  const { socket } = await openRawPeer(port);
  // It never reads: the server's pongs pile up in the kernel buffers, then in the server.
  socket.pause();
  const ping = maskedFrame({ opcode: Opcode.Ping, payload: Buffer.alloc(125, 0x70) });
  const burst = Buffer.concat(Array.from({ length: 512 }, () => ping));
  const startedAt = now();
  let outcome: Outcome | undefined;
  let onEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (onEnded = resolve));
  socket.on('error', (error) => {
    outcome ??= { outcome: resetLabel(error), atMs: now() - startedAt };
    onEnded();
  });
  socket.on('close', () => {
    outcome ??= { outcome: 'closed', atMs: now() - startedAt };
    onEnded();
  });
  const deadline = sleep(limitMs);
  let timeUp = false;
  void deadline.then(() => (timeUp = true));
  while (outcome === undefined && !timeUp && !socket.destroyed && socket.bytesWritten < maxBytes) {
    // As fast as the socket takes them: the next burst goes when the previous one drained.
    if (!socket.write(burst)) await Promise.race([once(socket, 'drain').catch(() => undefined), ended, deadline]);
  }
  const durationMs = now() - startedAt;
  const bytesWritten = socket.bytesWritten - socket.writableLength;
  socket.destroy();
  return {
    startedAt,
    durationMs,
    outcomes: [outcome ?? { outcome: socket.bytesWritten >= maxBytes ? `${NEVER} (byte cap reached)` : NEVER, atMs: null }],
    details: { bytesWritten, pingsWritten: Math.floor(bytesWritten / ping.length) },
  };
}

// ---- 3. Fragment flood ---------------------------------------------------------------------

/** One binary message of `fragments` one-byte fragments, as one byte stream (the same mask for all). */
function fragmentedMessage(fragments: number): Buffer {
  const first = maskedFrame({ opcode: Opcode.Binary, fin: false, payload: Buffer.from([0x66]) });
  const middle = maskedFrame({ opcode: Opcode.Continuation, fin: false, payload: Buffer.from([0x66]) });
  const last = maskedFrame({ opcode: Opcode.Continuation, fin: true, payload: Buffer.from([0x66]) });
  const stream = Buffer.allocUnsafe(first.length * fragments);
  first.copy(stream, 0);
  for (let index = 1; index < fragments - 1; index++) middle.copy(stream, index * middle.length);
  last.copy(stream, (fragments - 1) * last.length);
  return stream;
}

async function fragmentFlood(port: number, connections: number, fragments: number, limitMs: number): Promise<AttackReport> {
  const peers = await openPeers(port, connections);
  return sendAndWatch(peers, fragmentedMessage(fragments), fragments, limitMs);
}

// ---- 4. Slow handshakes (slowloris) --------------------------------------------------------

/** Half a request head, then nothing. */
const HALF_REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgr';

async function slowloris(port: number, connections: number, limitMs: number): Promise<AttackReport> {
  const startedAt = now();
  const sockets: Socket[] = [];
  const connectedAt: number[] = [];
  const outcomes: (Outcome | undefined)[] = [];
  let failedToOpen = 0;
  const open = (index: number): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      sockets.push(socket);
      let answer = '';
      const settle = (how: string): void => {
        if (outcomes[index] !== undefined) return;
        outcomes[index] = { outcome: answer === '' ? how : `${answer}, then ${how}`, atMs: now() - connectedAt[index]! };
      };
      socket.once('connect', () => {
        connectedAt[index] = now();
        socket.write(HALF_REQUEST);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => {
        answer ||= chunk.toString('latin1').split('\r\n')[0]!.replace('HTTP/1.1 ', '');
      });
      socket.on('end', () => settle('FIN'));
      socket.on('error', (error) => {
        if (connectedAt[index] === undefined) {
          failedToOpen++;
          resolve();
        } else settle(resetLabel(error));
      });
      socket.on('close', () => settle('closed'));
    });
  // In batches that each wait for their connects, so that the accept queue never overflows.
  for (let start = 0; start < connections; start += 250) {
    await Promise.all(Array.from({ length: Math.min(250, connections - start) }, (_, offset) => open(start + offset)));
  }
  const lastConnect = now();
  // Held until `limitMs` after the last connect, or until every socket was dropped.
  while (now() - lastConnect < limitMs && outcomes.filter(Boolean).length < connections - failedToOpen) await sleep(100);
  const durationMs = now() - startedAt;
  for (const socket of sockets) socket.destroy();
  return {
    startedAt,
    durationMs,
    outcomes: Array.from({ length: connections }, (_, index) =>
      connectedAt[index] === undefined ? { outcome: 'could not connect', atMs: null } : (outcomes[index] ?? { outcome: NEVER, atMs: null }),
    ),
    details: { failedToOpen, openingMs: Math.round(lastConnect - startedAt), heldMs: limitMs },
  };
}

// ---- 5. permessage-deflate bomb-ish load -------------------------------------------------

async function deflateBomb(port: number, connections: number, inflatedSize: number, limitMs: number): Promise<AttackReport> {
  const peers = await openPeers(port, connections, 'permessage-deflate; client_no_context_takeover');
  const unaccepted = peers.filter((peer) => !peer.extensions.startsWith('permessage-deflate')).length;
  if (unaccepted > 0) throw new Error(`permessage-deflate was not negotiated on ${unaccepted} connections`);
  // RFC 7692 §7.2.1: compressed with an empty window, the trailing 00 00 ff ff removed.
  const compressed = deflateRawSync(Buffer.alloc(inflatedSize, 0x61), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const payload = compressed.subarray(0, compressed.length - 4);
  const frame = maskedFrame({ opcode: Opcode.Binary, rsv1: true, payload });
  const report = await sendAndWatch(peers, frame, undefined, limitMs);
  return { ...report, details: { ...report.details, compressedBytes: payload.length, inflatedSize } };
}

// ---- Entry ---------------------------------------------------------------------------------

const settings = JSON.parse(process.argv[2]!) as AttackSettings;
// A hard stop on top of each attack's own limit.
setTimeout(() => {
  process.stderr.write(`attacker: ${settings.attack} overran its limit\n`);
  process.exit(2);
}, settings.limitMs + 20_000).unref();

let report: AttackReport;
switch (settings.attack) {
  case 'pipelined':
    report = await pipelined(settings.port, settings.count, settings.size, settings.limitMs);
    break;
  case 'ping-flood':
    report = await pingFlood(settings.port, settings.maxBytes, settings.limitMs);
    break;
  case 'fragment-flood':
    report = await fragmentFlood(settings.port, settings.connections, settings.fragments, settings.limitMs);
    break;
  case 'slowloris':
    report = await slowloris(settings.port, settings.connections, settings.limitMs);
    break;
  case 'deflate-bomb':
    report = await deflateBomb(settings.port, settings.connections, settings.inflatedSize, settings.limitMs);
    break;
}
// A pipe's write is asynchronous: exit only once the report (hundreds of KiB for 4,000
// connections) has been handed over, or the parent reads it cut short.
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
