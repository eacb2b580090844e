import { Buffer } from 'node:buffer';
import {
  type CompressedMessage,
  type DeflateCombination,
  compressedEchoCase,
  messageCount,
  rotations,
} from './compressed-echo.js';
import type { ConformanceCase } from './conformance-case.js';
import { RfcQuote } from './rfc-quote.js';

/** Autobahn's message sizes for sections 12 and 13, 16 bytes to 128 KiB. */
export const COMPRESSION_SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072] as const;

/**
 * The offer browsers and `ws` make by default (`permessage-deflate; client_max_window_bits`),
 * and, testing a client, an acceptance that keeps the server's context: both sides take their
 * context over from message to message.
 */
export const DEFAULT_OFFER: DeflateCombination = {
  name: 'the default offer',
  offers: [{}],
  accept: { serverNoContextTakeover: false },
};

/** A printable pattern for text payloads (Autobahn's), repeated to the size. */
const TEXT_PATTERN = 'BAsd7&jh23';

const WORDS = 'the of and to in is was that for on are with as by at from this be have or not an which were its but'.split(' ');

/** Deterministic pseudo-random numbers (mulberry32), so that every run sends the same bytes. */
export function pseudoRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** ASCII prose of common words in a random order: text that compresses moderately. */
function prose(size: number, seed: number): Buffer {
  const random = pseudoRandom(seed);
  let text = '';
  while (text.length < size) text += `${WORDS[Math.floor(random() * WORDS.length)]} `;
  return Buffer.from(text.slice(0, size), 'latin1');
}

/** Random bytes: data that does not compress, which DEFLATE stores. */
function noise(size: number, seed: number): Buffer {
  const random = pseudoRandom(seed);
  const bytes = Buffer.alloc(size);
  for (let index = 0; index < size; index++) bytes[index] = Math.floor(random() * 256);
  return bytes;
}

interface Group {
  readonly group: number;
  readonly what: string;
  readonly binary: boolean;
  readonly payload: (size: number) => Buffer;
  readonly fragments?: number;
}

const GROUPS: readonly Group[] = [
  { group: 1, what: 'text messages of a repeated pattern', binary: false, payload: (size) => Buffer.alloc(size, TEXT_PATTERN) },
  { group: 2, what: 'binary messages of a repeated byte', binary: true, payload: (size) => Buffer.alloc(size, 0xfe) },
  { group: 3, what: 'text messages of prose', binary: false, payload: (size) => prose(size, size) },
  { group: 4, what: 'binary messages of random bytes (incompressible)', binary: true, payload: (size) => noise(size, size) },
  { group: 5, what: 'text messages of prose, each compressed message in 4 frames', binary: false, payload: (size) => prose(size, size + 1), fragments: 4 },
];

function sizeName(size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} bytes`;
}

/**
 * Section 12: compressed echo of messages of many sizes and kinds with the default offer, as
 * Autobahn's section 12 does. Each case sends a burst of compressed messages, each a rotation
 * of the one before (so a kept context is used), and expects every one echoed intact.
 */
export const section12: readonly ConformanceCase[] = GROUPS.flatMap(({ group, what, binary, payload, fragments }) =>
  COMPRESSION_SIZES.map((size, index) =>
    compressedEchoCase({
      id: `12.${group}.${index + 1}`,
      section: 12,
      description: `With the default permessage-deflate offer, send ${messageCount(size)} compressed ${what} of ${sizeName(size)}; expect each echoed.`,
      rfc: fragments === undefined ? RfcQuote.deflateMessage : RfcQuote.deflateFragments,
      combination: DEFAULT_OFFER,
      ...(fragments === undefined ? {} : { fragments }),
      messages: (): CompressedMessage[] => rotations(payload(size), messageCount(size)).map((data) => ({ binary, data })),
    }),
  ),
);
