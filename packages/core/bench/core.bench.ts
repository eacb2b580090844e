/**
 * Core micro-benchmarks beside the `ws` package doing the same work in the same run:
 * frame decoding (with unmasking and delivery), unmasking alone, UTF-8 validation.
 * Run with `pnpm bench` (in packages/core, or at the root). Prints a Markdown table and
 * writes bench-results/core.json.
 */
import { Buffer } from 'node:buffer';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isValidUtf8, ServerProtocol } from '@ws/core';
import { applyMask, encodeFrame } from '@ws/core/wire';
import { compare, formatRate, type Contender } from './measure.js';

// ws exports only its entry point; its internals are loaded by file, next to that entry.
const require = createRequire(import.meta.url);
const wsLib = dirname(require.resolve('ws'));
const Receiver = require(join(wsLib, 'lib/receiver.js'));
const bufferUtil = require(join(wsLib, 'lib/buffer-util.js'));
const validation = require(join(wsLib, 'lib/validation.js'));

const SIZES = [
  ['16 B', 16],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
] as const;

/** About 1 MiB of client frames of one size, in one chunk, as they arrive from a socket. */
function clientFrames(size: number): Buffer {
  const frame = encodeFrame({ opcode: 0x2, payload: Buffer.alloc(size, 0x61), maskKey: Buffer.from([1, 2, 3, 4]) });
  const count = Math.max(1, Math.floor((1024 * 1024) / frame.length));
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

/** Splits like a TCP socket would (64 KiB reads). */
function socketChunks(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 65536) chunks.push(bytes.subarray(offset, offset + 65536));
  return chunks;
}

interface Row {
  readonly operation: string;
  readonly size: string;
  readonly ours: number;
  readonly ws: number;
  readonly wsLabel: string;
}

const rows: Row[] = [];

function record(operation: string, size: string, ours: Contender, theirs: Contender): void {
  const [a, b] = compare([ours, theirs]);
  rows.push({ operation, size, ours: a!.bytesPerSecond, ws: b!.bytesPerSecond, wsLabel: theirs.name });
}

for (const [label, size] of SIZES) {
  const chunks = socketChunks(clientFrames(size));
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const protocol = new ServerProtocol({ maxMessageSize: 64 * 1024 * 1024, maxFrameSize: 64 * 1024 * 1024 });
  let delivered = 0;
  const receiver = new Receiver({ isServer: true, maxPayload: 64 * 1024 * 1024 });
  receiver.on('message', (data: Buffer) => (delivered += data.length));
  record(
    'decode',
    label,
    {
      name: '@ws/core',
      run: () => {
        for (const chunk of chunks) {
          protocol.receiveData(chunk);
          for (const event of protocol.eventsReceived()) if (event.type === 'message') delivered += event.data.length;
        }
        return total;
      },
    },
    {
      name: 'ws Receiver',
      run: () => {
        for (const chunk of chunks) receiver.write(chunk);
        return total;
      },
    },
  );
  if (delivered === 0) throw new Error('nothing was decoded');
}

const maskKey = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
for (const [label, size] of SIZES) {
  const data = Buffer.alloc(size, 0x42);
  record(
    'unmask',
    label,
    { name: '@ws/core', run: () => (applyMask(data, maskKey, 0), size) },
    { name: 'ws (bufferutil)', run: () => (bufferUtil.unmask(data, maskKey), size) },
  );
}

for (const [label, size] of SIZES) {
  const text = Buffer.from('κόσμε and ascii text, '.repeat(Math.ceil(size / 24))).subarray(0, size);
  const valid = Buffer.from(text.toString('utf8'));
  record(
    'utf-8',
    label,
    { name: '@ws/core', run: () => (isValidUtf8(valid), valid.length) },
    { name: 'ws (utf-8-validate)', run: () => (validation.isValidUTF8(valid), valid.length) },
  );
}

const lines = [
  '| operation | size | @ws/core | ws | ratio |',
  '|---|---|---:|---:|---:|',
  ...rows.map(
    (row) => `| ${row.operation} | ${row.size} | ${formatRate(row.ours)} | ${formatRate(row.ws)} (${row.wsLabel}) | ${(row.ours / row.ws).toFixed(2)}× |`,
  ),
];
console.log(lines.join('\n'));
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/core.json', JSON.stringify({ node: process.version, rows }, null, 2));
