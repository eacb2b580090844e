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
import { COMPRESSION_SIZES, DEFAULT_OFFER, pseudoRandom } from './section-12-compression.js';

interface ParameterGroup {
  readonly combination: DeflateCombination;
  readonly rfc: string;
  /** Only some combinations can be made in both roles (several offers come from a client). */
  readonly serverOnly?: boolean;
}

/**
 * Each parameter of RFC 7692 §7.1, alone and together. Testing a server, the testkit offers
 * it; testing a client, the testkit (as the server) answers the client's offer with it —
 * `server_*` parameters and `client_no_context_takeover` may be answered unasked (§7.1.1.1,
 * §7.1.1.2, §7.1.2.1), `client_max_window_bits` only when the client offered it (§7.1.2.2).
 */
const GROUPS: readonly ParameterGroup[] = [
  { combination: DEFAULT_OFFER, rfc: RfcQuote.deflateContextTakeover },
  {
    combination: {
      name: 'client_no_context_takeover',
      offers: [{ clientNoContextTakeover: true }],
      accept: { serverNoContextTakeover: false, clientNoContextTakeover: true },
    },
    rfc: RfcQuote.deflateContextTakeover,
  },
  {
    combination: {
      name: 'server_no_context_takeover',
      offers: [{ serverNoContextTakeover: true }],
      accept: { serverNoContextTakeover: true },
    },
    rfc: RfcQuote.deflateContextTakeover,
  },
  {
    combination: {
      name: 'server_no_context_takeover and client_no_context_takeover',
      offers: [{ serverNoContextTakeover: true, clientNoContextTakeover: true }],
      accept: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    },
    rfc: RfcQuote.deflateContextTakeover,
  },
  {
    combination: {
      name: 'client_max_window_bits=9',
      offers: [{ clientMaxWindowBits: 9 }],
      accept: { serverNoContextTakeover: false, clientMaxWindowBits: 9 },
    },
    rfc: RfcQuote.deflateWindowBits,
  },
  {
    combination: {
      name: 'client_max_window_bits=15',
      offers: [{ clientMaxWindowBits: 15 }],
      accept: { serverNoContextTakeover: false, clientMaxWindowBits: 15 },
    },
    rfc: RfcQuote.deflateWindowBits,
  },
  {
    combination: {
      name: 'server_max_window_bits=9',
      offers: [{ serverMaxWindowBits: 9 }],
      accept: { serverNoContextTakeover: false, serverMaxWindowBits: 9 },
    },
    rfc: RfcQuote.deflateWindowBits,
  },
  {
    combination: {
      name: 'server_max_window_bits=15',
      offers: [{ serverMaxWindowBits: 15 }],
      accept: { serverNoContextTakeover: false, serverMaxWindowBits: 15 },
    },
    rfc: RfcQuote.deflateWindowBits,
  },
  {
    combination: {
      name: 'both no_context_takeover and both max_window_bits=9',
      offers: [{ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 }],
      accept: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
    },
    rfc: RfcQuote.deflateWindowBits,
  },
  {
    combination: {
      name: 'two offers in one header (all parameters with 10-bit windows, then the default)',
      offers: [{ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 }, {}],
      accept: {},
    },
    rfc: RfcQuote.deflateOffers,
    serverOnly: true,
  },
];

/** The length of the block that section 13's payloads repeat: farther apart than a 9-bit window reaches. */
const BLOCK_LENGTH = 1000;

/**
 * A 1000-byte block of random printable ASCII repeated to the size: a compressor may refer
 * back 1000 bytes only with a window of 1 KiB or more, so one that ignores an agreed 9-bit
 * window (512 bytes) sends data the testkit cannot inflate.
 */
function repeatedBlock(size: number, seed: number): Buffer {
  const random = pseudoRandom(seed);
  const block = Buffer.alloc(BLOCK_LENGTH);
  for (let index = 0; index < BLOCK_LENGTH; index++) block[index] = 0x21 + Math.floor(random() * 94);
  const payload = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += BLOCK_LENGTH) block.copy(payload, offset, 0, Math.min(BLOCK_LENGTH, size - offset));
  return payload;
}

function sizeName(size: number): string {
  return size >= 1024 ? `${size / 1024} KiB` : `${size} bytes`;
}

/**
 * Section 13: compressed echo for each parameter combination, as Autobahn's section 13 does:
 * text and binary messages in turn, of each size, each a rotation of the one before.
 */
export const section13: readonly ConformanceCase[] = GROUPS.flatMap(({ combination, rfc, serverOnly }, groupIndex) =>
  COMPRESSION_SIZES.map((size, index) =>
    compressedEchoCase({
      id: `13.${groupIndex + 1}.${index + 1}`,
      section: 13,
      description: `With ${combination.name}, send ${messageCount(size)} compressed text and binary messages of ${sizeName(size)} in turn; expect each echoed.`,
      rfc,
      combination,
      ...(serverOnly === true ? { targets: ['server'] as const } : {}),
      messages: (): CompressedMessage[] =>
        rotations(repeatedBlock(size, groupIndex * 100 + index), messageCount(size)).map((data, message) => ({
          binary: message % 2 === 1,
          data,
        })),
    }),
  ),
);
