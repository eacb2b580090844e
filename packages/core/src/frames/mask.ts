import { randomFillSync } from 'node:crypto';
import { simdMask } from './mask-simd.js';

/*
 * RFC 6455 §5.3: "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i
 * of the original data ("original-octet-i") with octet at index i modulo 4 of the masking key
 * ("masking-key-octet-j"): j = i MOD 4; transformed-octet-i = original-octet-i XOR masking-key-octet-j".
 *
 * Internally the key is a 32-bit number whose high byte applies to the next data byte (the four
 * key bytes read big-endian, rotated to the current phase). Long runs are XORed 64 bits at a
 * time through a BigUint64Array over the 8-byte-aligned middle of the data; the few bytes before
 * and after it go byte by byte.
 */

/**
 * From these lengths on the word loop wins. Reaching a view's `buffer` and `byteOffset` and
 * creating a BigUint64Array over it costs about 70 ns, as much as XORing about 100 bytes one by
 * one; `maskInto` also pays for a native copy first. Measured in bench/mask.bench.ts.
 */
const WORD_MIN_LENGTH = 96;
const MASK_INTO_WORD_MIN_LENGTH = 128;
/**
 * With the chunk's word view made already (`unmaskChunkRange`), the word loop wins from this
 * length on: only the unaligned head and tail go byte by byte.
 */
export const CHUNK_WORD_MIN_LENGTH = 32;
/**
 * From this length on WebAssembly SIMD (mask-simd.ts) masks faster than the word loop, its two
 * copies into and out of the module's memory included. Measured in bench/mask.bench.ts.
 */
const SIMD_MIN_LENGTH = 2048;

/**
 * Unmasks (or masks: the operation is its own inverse) `data` in place. Byte i of `data` is XORed
 * with key byte `(maskOffset + i) % 4`, so a payload that arrives in several chunks is unmasked
 * chunk by chunk by passing, for each chunk, how many payload bytes came before it (only that
 * count modulo 4 matters).
 *
 * `maskKey` is the 4-byte masking key as it appears on the wire, or the same four bytes as an
 * unsigned big-endian 32-bit number (`key[0]` is the high byte).
 */
export function applyMask(data: Uint8Array, maskKey: Uint8Array | number, maskOffset = 0): void {
  xorRange(data, 0, data.length, rotateLeft(keyWord(maskKey), maskOffset & 3));
}

/**
 * Unmasks `chunk[start..end)` in place, exactly like `applyMask(chunk.subarray(start, end),
 * maskKey, maskOffset)`, through `words`: the view `wordViewOf(chunk)`, made once for a chunk
 * and reused for every frame in it. A decoder handed a socket chunk of many small frames so
 * pays for one typed-array view per chunk instead of one per frame (about 70 ns each, as much
 * as unmasking half a KiB costs). `words` is only needed from `CHUNK_WORD_MIN_LENGTH` bytes on.
 * `maskKey` is the key as an unsigned big-endian number.
 */
export function unmaskChunkRange(
  chunk: Uint8Array,
  start: number,
  end: number,
  maskKey: number,
  maskOffset: number,
  words: BigUint64Array | undefined,
): void {
  const key = rotateLeft(maskKey, maskOffset & 3);
  if (end - start >= SIMD_MIN_LENGTH && simdMask(chunk, start, end - start, chunk, start, key)) return;
  if (words === undefined || end - start < CHUNK_WORD_MIN_LENGTH) xorRange(chunk, start, end, key);
  else xorThroughWords(chunk, start, end, key, words);
}

/** The view `unmaskChunkRange` works through: 64-bit words over the whole buffer of `chunk`. */
export function wordViewOf(chunk: Uint8Array): BigUint64Array {
  return new BigUint64Array(chunk.buffer, 0, chunk.buffer.byteLength >>> 3);
}

/**
 * Writes `source` masked with `maskKey` into `target` from `targetOffset`, leaving `source`
 * untouched: a client masks what it sends, and the buffer it was given is the caller's; a
 * receiver unmasks a piece of a socket chunk straight into a message's own buffer. `source`
 * may be the very bytes it is written to (that masks in place, like `applyMask`), but must not
 * otherwise overlap them. `maskOffset`, as for `applyMask`, is how many bytes of the key stream
 * came before `source` (only that count modulo 4 matters). From `SIMD_MIN_LENGTH` on the bytes go
 * through the WebAssembly module's memory (copied in, XORed, copied out to `target`).
 */
export function maskInto(
  source: Uint8Array,
  target: Uint8Array,
  targetOffset: number,
  maskKey: Uint8Array | number,
  maskOffset = 0,
): void {
  const length = source.length;
  if (!Number.isInteger(targetOffset) || targetOffset < 0 || targetOffset + length > target.length) {
    throw new RangeError(`Cannot write ${length} masked bytes at offset ${targetOffset} of a ${target.length}-byte buffer`);
  }
  let key = rotateLeft(keyWord(maskKey), maskOffset & 3);
  if (length < MASK_INTO_WORD_MIN_LENGTH) {
    // Forward, four bytes per step, without touching `buffer`: reading it alone costs about 50 ns.
    const byte0 = key >>> 24;
    const byte1 = (key >>> 16) & 0xff;
    const byte2 = (key >>> 8) & 0xff;
    const byte3 = key & 0xff;
    let index = 0;
    for (; index + 4 <= length; index += 4) {
      target[targetOffset + index] = source[index]! ^ byte0;
      target[targetOffset + index + 1] = source[index + 1]! ^ byte1;
      target[targetOffset + index + 2] = source[index + 2]! ^ byte2;
      target[targetOffset + index + 3] = source[index + 3]! ^ byte3;
    }
    for (; index < length; index++) {
      target[targetOffset + index] = source[index]! ^ (key >>> 24);
      key = nextKey(key);
    }
    return;
  }

  if (length >= SIMD_MIN_LENGTH && simdMask(source, 0, length, target, targetOffset, key)) return;
  // A native copy (a memmove, so source and target may share memory) and an in-place pass of
  // 64-bit words. Reading source words and writing target words in one pass is no faster (at
  // best 10 % at 64 KiB, slower at 1 KiB) and only possible when both are aligned alike.
  target.set(source, targetOffset);
  xorRange(target, targetOffset, targetOffset + length, key);
}

/**
 * A source of masking keys for a client: RFC 6455 §5.3 "The masking key is a 32-bit value
 * chosen at random by the client. When preparing a masked frame, the client MUST pick a fresh
 * masking key from the set of allowed 32-bit values. The masking key needs to be unpredictable;
 * thus, the masking key MUST be derived from a strong source of entropy".
 *
 * Random bytes are drawn from `crypto.randomFillSync` `poolSize` bytes at a time (one call per
 * 2048 keys by default instead of one per frame). Each key is a copy of 4 pool bytes: it is the
 * caller's to keep, and refilling the pool never changes a key handed out earlier. A copy is
 * also cheaper than a view into the pool (measured: 35 ns against 45 ns per key).
 */
export function createMaskKeySource(poolSize = 8192): () => Uint8Array {
  if (!Number.isInteger(poolSize) || poolSize < 4 || poolSize % 4 !== 0) {
    throw new RangeError(`poolSize must be a positive multiple of 4, got ${poolSize}`);
  }
  const pool = new Uint8Array(poolSize);
  let offset = poolSize;
  return () => {
    if (offset === poolSize) {
      randomFillSync(pool);
      offset = 0;
    }
    const key = new Uint8Array(4);
    key[0] = pool[offset]!;
    key[1] = pool[offset + 1]!;
    key[2] = pool[offset + 2]!;
    key[3] = pool[offset + 3]!;
    offset += 4;
    return key;
  };
}

/** XORs `data[start..end)` with the key stream whose next byte is the high byte of `key`. */
function xorRange(data: Uint8Array, start: number, end: number, key: number): void {
  if (end - start >= SIMD_MIN_LENGTH && simdMask(data, start, end - start, data, start, key)) return;
  if (end - start >= WORD_MIN_LENGTH) {
    xorThroughWords(data, start, end, key, wordViewOf(data));
    return;
  }
  // Four bytes per step: from a key-aligned start, the four key bytes repeat in place.
  const byte0 = key >>> 24;
  const byte1 = (key >>> 16) & 0xff;
  const byte2 = (key >>> 8) & 0xff;
  const byte3 = key & 0xff;
  let index = start;
  for (; index + 4 <= end; index += 4) {
    data[index] = data[index]! ^ byte0;
    data[index + 1] = data[index + 1]! ^ byte1;
    data[index + 2] = data[index + 2]! ^ byte2;
    data[index + 3] = data[index + 3]! ^ byte3;
  }
  for (; index < end; index++) {
    data[index] = data[index]! ^ (key >>> 24);
    key = nextKey(key);
  }
}

/**
 * Like `xorRange`, through `words` (`wordViewOf(data)`): the bytes before the first 8-byte
 * aligned address and after the last one go one by one, the aligned middle 64 bits at a time.
 * Callers pass at least 32 bytes, so the head (at most 7) stays inside the range.
 */
function xorThroughWords(data: Uint8Array, start: number, end: number, key: number, words: BigUint64Array): void {
  const address = data.byteOffset;
  let index = start;
  const headEnd = start + ((8 - ((address + start) & 7)) & 7);
  for (; index < headEnd; index++) {
    data[index] = data[index]! ^ (key >>> 24);
    key = nextKey(key);
  }
  const firstWord = (address + index) >>> 3;
  const wordCount = (end - index) >>> 3;
  xorWords(words, firstWord, firstWord + wordCount, wordOf(key));
  index += wordCount << 3;
  for (; index < end; index++) {
    data[index] = data[index]! ^ (key >>> 24);
    key = nextKey(key);
  }
}

/**
 * XORs the 64-bit words `words[from..to)` with `word`. Unrolled by eight: V8 compiles
 * BigUint64Array loads, XOR and stores to plain 64-bit machine operations, and the unrolling
 * amortises the loop's bounds and interrupt checks; this runs about four times as fast as a
 * plain Int32Array loop.
 */
function xorWords(words: BigUint64Array, from: number, to: number, word: bigint): void {
  const count = to;
  let index = from;
  for (; index + 8 <= count; index += 8) {
    words[index] = words[index]! ^ word;
    words[index + 1] = words[index + 1]! ^ word;
    words[index + 2] = words[index + 2]! ^ word;
    words[index + 3] = words[index + 3]! ^ word;
    words[index + 4] = words[index + 4]! ^ word;
    words[index + 5] = words[index + 5]! ^ word;
    words[index + 6] = words[index + 6]! ^ word;
    words[index + 7] = words[index + 7]! ^ word;
  }
  for (; index < count; index++) words[index] = words[index]! ^ word;
}

/** Eight key bytes in memory order, read back as one native-endian 64-bit word (so any platform's byte order is right). */
const wordScratch = new BigUint64Array(1);
const wordScratchBytes = new Uint8Array(wordScratch.buffer);

function wordOf(key: number): bigint {
  const bytes = wordScratchBytes;
  bytes[0] = bytes[4] = key >>> 24;
  bytes[1] = bytes[5] = key >>> 16;
  bytes[2] = bytes[6] = key >>> 8;
  bytes[3] = bytes[7] = key;
  return wordScratch[0]!;
}

function keyWord(maskKey: Uint8Array | number): number {
  if (typeof maskKey === 'number') {
    if (maskKey >>> 0 !== maskKey) {
      throw new RangeError(`A masking key number must be an unsigned 32-bit integer, got ${maskKey}`);
    }
    return maskKey;
  }
  if (maskKey.length !== 4) {
    throw new RangeError(`A masking key has 4 bytes, got ${maskKey.length}`);
  }
  return ((maskKey[0]! << 24) | (maskKey[1]! << 16) | (maskKey[2]! << 8) | maskKey[3]!) >>> 0;
}

/** The key stream advanced by `bytes` (0-3) bytes. */
function rotateLeft(key: number, bytes: number): number {
  const bits = bytes << 3;
  return bits === 0 ? key : ((key << bits) | (key >>> (32 - bits))) >>> 0;
}

/** The key stream advanced by one byte. */
function nextKey(key: number): number {
  return ((key << 8) | (key >>> 24)) >>> 0;
}

