import { Buffer } from 'node:buffer';
import { randomApplicationAction } from './application-actions.js';
import type { FuzzCase } from './fuzz-case.js';
import { createEndpoints } from './fuzz-config.js';
import { FuzzFailure, Invariant } from './fuzz-failure.js';
import { ProtocolChecker } from './protocol-checker.js';
import { randomBytes } from './random-payload.js';
import { RandomSource } from './random-source.js';
import { describeEvent, firstDifference, sameEvent, type TraceEvent } from './trace-event.js';

/** What one case did, for the summary. */
export interface CaseOutcome {
  /** The close code the engine sent: a number, 'empty' for a close frame without body, 'none'. */
  readonly sentClose: number | 'empty' | 'none';
  /** The `WS_ERR_*` code the connection failed with. */
  readonly errorCode: string | undefined;
  /** Bytes fed to engines, all runs of the case counted. */
  readonly bytes: number;
}

/** One case in six is also run twice more, whole and byte by byte, to compare what they report. */
const DIFFERENTIAL_SHARE = 1 / 6;
/**
 * Tiny chunks cost a call each: past this many bytes the rest of a stream goes in larger ones.
 * Headers straddle reads, and payloads, UTF-8 sequences and deflate blocks are cut everywhere,
 * well before it.
 */
const SMALL_CHUNKS_LIMIT = 1024;

type Chunking = 'whole' | 'bytewise' | 'small' | 'medium' | 'mixed';

/** Chunk sizes: the engine must behave alike whatever the transport's reads look like. */
function chunkSizes(random: RandomSource, length: number, chunking: Chunking): number[] {
  const sizes: number[] = [];
  let offset = 0;
  while (offset < length) {
    let size: number;
    if (chunking === 'whole') size = length;
    else if (offset >= SMALL_CHUNKS_LIMIT && chunking !== 'medium') size = random.between(1, 8192);
    else if (chunking === 'bytewise') size = 1;
    else if (chunking === 'small') size = random.between(1, 16);
    else if (chunking === 'medium') size = random.between(1, 1024);
    else size = random.pick([1, 1, 2, 3, random.between(1, 64), random.between(1, 8192)]);
    sizes.push(size);
    offset += size;
  }
  return sizes;
}

/**
 * Once the connection failed or the peer's close frame arrived, the engine reads nothing more
 * (as the I/O layer stops reading): the rest of the stream goes in one read, which must still
 * produce nothing.
 */
function readsNothing(checker: ProtocolChecker): boolean {
  return checker.protocol.protocolError !== undefined || checker.protocol.closeReceived !== undefined;
}

/** Masking keys for the client engine: random, all zero in some cases. */
function maskKeySource(seed: number): () => Uint8Array {
  const random = new RandomSource(seed);
  const zero = random.chance(0.1);
  return () => (zero ? Buffer.alloc(4) : random.fill(Buffer.allocUnsafe(4)));
}

/**
 * The engine unmasks in place, so it gets its own copy of the input, at a random offset between
 * random guard bytes: it may write inside the chunks it is given, never around them. A client
 * unmasks nothing (a masked frame from a server fails the connection from its header), so its
 * input must come back unchanged.
 */
function guardedCopy(fuzzCase: FuzzCase, random: RandomSource): { input: Buffer; checkUntouched: () => void } {
  const guardLength = random.between(1, 16);
  const guards = random.fill(Buffer.allocUnsafe(2 * guardLength));
  const backing = Buffer.allocUnsafe(guardLength + fuzzCase.input.length + guardLength);
  guards.copy(backing, 0, 0, guardLength);
  guards.copy(backing, backing.length - guardLength, guardLength);
  const input = backing.subarray(guardLength, guardLength + fuzzCase.input.length);
  fuzzCase.input.copy(input);
  const checkUntouched = () => {
    const after = Buffer.concat([backing.subarray(0, guardLength), backing.subarray(backing.length - guardLength)]);
    if (!after.equals(guards)) {
      throw new FuzzFailure(Invariant.Memory, 'The engine wrote outside the chunks it was given');
    }
    if (fuzzCase.config.side === 'client' && !input.equals(fuzzCase.input)) {
      throw new FuzzFailure(Invariant.Memory, 'The client engine changed the bytes it received');
    }
  };
  return { input, checkUntouched };
}

/**
 * The main run: the stream in random chunks, with application actions, drains and close
 * echoes between reads as an I/O layer and an application would do them.
 */
function runWithApplication(fuzzCase: FuzzCase, random: RandomSource): CaseOutcome {
  const endpoints = createEndpoints(fuzzCase.config, maskKeySource(fuzzCase.seed ^ 0x1b873593));
  try {
    const checker = new ProtocolChecker(endpoints, fuzzCase.config, fuzzCase.expectation);
    const { input, checkUntouched } = guardedCopy(fuzzCase, random);
    const chunking = random.weighted<Chunking>([
      [15, 'whole'],
      [15, 'bytewise'],
      [25, 'small'],
      [30, 'medium'],
      [15, 'mixed'],
    ]);
    const sizes = chunkSizes(random, input.length, chunking);
    // A few application actions per case, wherever the reads fall: after a close most of them
    // are refused, and a refusal (an exception) costs more than a read.
    const actionShare = random.pick([0, 0, 2, 6, 16]) / sizes.length;
    const drainShare = random.pick([1, 1, 0.9, 0.5, 0]);
    const echo = random.pick(['now', 'next', 'end', 'never'] as const);
    let offset = 0;
    for (let index = 0; offset < input.length; index++) {
      const echoWasPending = checker.protocol.closeEchoPending;
      const size = readsNothing(checker) ? input.length - offset : sizes[index]!;
      checker.receive(input.subarray(offset, offset + size));
      offset += size;
      if (checker.protocol.closeEchoPending && (echo === 'now' || (echo === 'next' && echoWasPending))) {
        checker.sendCloseEcho();
      }
      if (random.chance(actionShare)) randomApplicationAction(random, checker);
      else if (random.chance(drainShare)) checker.drain();
    }
    if (echo !== 'never' && checker.protocol.closeEchoPending) checker.sendCloseEcho();
    checker.receiveEof();
    if (random.chance(0.05)) checker.receiveAfterEof(randomBytes(random, random.between(1, 32)));
    checker.finish();
    checkUntouched();
    return { sentClose: checker.sentClose, errorCode: checker.protocol.protocolError?.code, bytes: input.length };
  } finally {
    endpoints.dispose();
  }
}

/** The stream alone, no application, no drains: what a chunking-independent engine reports. */
function trace(
  fuzzCase: FuzzCase,
  random: RandomSource,
  chunking: Chunking,
): { events: readonly TraceEvent[]; errorCode: string | undefined } {
  const endpoints = createEndpoints(fuzzCase.config, maskKeySource(fuzzCase.seed));
  try {
    const checker = new ProtocolChecker(endpoints, fuzzCase.config, fuzzCase.expectation);
    const input = Buffer.from(fuzzCase.input);
    const sizes = chunkSizes(random, input.length, chunking);
    let offset = 0;
    for (let index = 0; offset < input.length; index++) {
      const size = readsNothing(checker) ? input.length - offset : sizes[index]!;
      checker.receive(input.subarray(offset, offset + size));
      offset += size;
    }
    checker.sendCloseEcho();
    checker.receiveEof();
    checker.finish();
    return { events: checker.trace, errorCode: checker.protocol.protocolError?.code };
  } finally {
    endpoints.dispose();
  }
}

/**
 * Failures found in a compressed message's decoded bytes: which comes first depends on how
 * much zlib is given at once. Fed in pieces, invalid UTF-8 in the first inflated bytes fails
 * the connection before zlib reaches the corrupt block (or the size limit) that fails it when
 * the frame is fed whole.
 */
const DECODED_PAYLOAD_ERRORS: ReadonlySet<string> = new Set([
  'WS_ERR_INVALID_UTF8',
  'WS_ERR_INVALID_COMPRESSED_DATA',
  'WS_ERR_MESSAGE_TOO_BIG',
]);

/**
 * The same bytes fed whole and in small pieces must give the same messages, pings, pongs and
 * close, and fail (or not) with the same error, but for the order of decoded-payload errors.
 */
function compareChunkings(fuzzCase: FuzzCase, random: RandomSource): number {
  const whole = trace(fuzzCase, random, 'whole');
  const split = trace(fuzzCase, random, random.chance(0.5) ? 'bytewise' : 'small');
  const length = Math.max(whole.events.length, split.events.length);
  for (let index = 0; index < length; index++) {
    const [a, b] = [whole.events[index], split.events[index]];
    if (a === undefined || b === undefined || !sameEvent(a, b)) {
      throw new FuzzFailure(
        Invariant.ChunkingInvariance,
        `Event ${index}: ${describeEvent(a)} fed whole, ${describeEvent(b)} fed in pieces${firstDifference(a, b)}`,
      );
    }
  }
  const bothAboutPayload =
    DECODED_PAYLOAD_ERRORS.has(whole.errorCode ?? '') && DECODED_PAYLOAD_ERRORS.has(split.errorCode ?? '');
  if (whole.errorCode !== split.errorCode && !bothAboutPayload) {
    throw new FuzzFailure(
      Invariant.ChunkingInvariance,
      `Fed whole: ${whole.errorCode ?? 'no failure'}; fed in pieces: ${split.errorCode ?? 'no failure'}`,
    );
  }
  return 2 * fuzzCase.input.length;
}

/** Runs a case; throws FuzzFailure when the engine breaks an invariant. */
export function runFuzzCase(fuzzCase: FuzzCase): CaseOutcome {
  const random = new RandomSource(fuzzCase.seed ^ 0x2545f491);
  const outcome = runWithApplication(fuzzCase, random);
  if (!random.chance(DIFFERENTIAL_SHARE)) return outcome;
  return { ...outcome, bytes: outcome.bytes + compareChunkings(fuzzCase, random) };
}
