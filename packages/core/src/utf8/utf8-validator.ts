import { isUtf8 } from 'node:buffer';

/*
 * A table-driven DFA over bytes (the shape of Bjoern Hoehrmann's decoder; the table is built
 * here from the well-formed byte sequences of RFC 3629 §4 / Unicode Table 3-7):
 *
 *   00..7F
 *   C2..DF 80..BF
 *   E0     A0..BF 80..BF      (E0 80..9F would be an overlong encoding)
 *   E1..EC 80..BF 80..BF
 *   ED     80..9F 80..BF      (ED A0..BF would encode a UTF-16 surrogate, U+D800..U+DFFF)
 *   EE..EF 80..BF 80..BF
 *   F0     90..BF 80..BF 80..BF   (F0 80..8F would be overlong)
 *   F1..F3 80..BF 80..BF 80..BF
 *   F4     80..8F 80..BF 80..BF   (F4 90.. would be above U+10FFFF)
 *
 * C0, C1 and F5..FF never appear. A state is "what the next byte may be"; every byte that is
 * not allowed leads to REJECT, which is absorbing. Because every state only allows bytes that
 * can still complete a well-formed sequence, the DFA rejects on the first byte after which the
 * input can no longer be the prefix of valid UTF-8.
 *
 * States are premultiplied by 256 so one lookup, `TRANSITIONS[state + byte]`, is one step.
 */
const ACCEPT = 0;
const REJECT = 1 << 8;
/** One continuation byte (80..BF) to go. */
const TAIL_1 = 2 << 8;
/** Two continuation bytes to go. */
const TAIL_2 = 3 << 8;
/** Three continuation bytes to go. */
const TAIL_3 = 4 << 8;
/** After E0: A0..BF, then one more. */
const AFTER_E0 = 5 << 8;
/** After ED: 80..9F, then one more. */
const AFTER_ED = 6 << 8;
/** After F0: 90..BF, then two more. */
const AFTER_F0 = 7 << 8;
/** After F4: 80..8F, then two more. */
const AFTER_F4 = 8 << 8;
const STATE_COUNT = 9;

const TRANSITIONS = buildTransitions();

function buildTransitions(): Uint16Array {
  const table = new Uint16Array(STATE_COUNT << 8).fill(REJECT);
  const allow = (state: number, first: number, last: number, next: number): void => {
    table.fill(next, state + first, state + last + 1);
  };
  allow(ACCEPT, 0x00, 0x7f, ACCEPT);
  allow(ACCEPT, 0xc2, 0xdf, TAIL_1);
  allow(ACCEPT, 0xe0, 0xe0, AFTER_E0);
  allow(ACCEPT, 0xe1, 0xec, TAIL_2);
  allow(ACCEPT, 0xed, 0xed, AFTER_ED);
  allow(ACCEPT, 0xee, 0xef, TAIL_2);
  allow(ACCEPT, 0xf0, 0xf0, AFTER_F0);
  allow(ACCEPT, 0xf1, 0xf3, TAIL_3);
  allow(ACCEPT, 0xf4, 0xf4, AFTER_F4);
  allow(TAIL_1, 0x80, 0xbf, ACCEPT);
  allow(TAIL_2, 0x80, 0xbf, TAIL_1);
  allow(TAIL_3, 0x80, 0xbf, TAIL_2);
  allow(AFTER_E0, 0xa0, 0xbf, TAIL_1);
  allow(AFTER_ED, 0x80, 0x9f, TAIL_1);
  allow(AFTER_F0, 0x90, 0xbf, TAIL_2);
  allow(AFTER_F4, 0x80, 0x8f, TAIL_2);
  return table;
}

/**
 * Sizes from which the native `isUtf8` (simdutf) beats the JavaScript below. A native call costs
 * about 45 ns whatever the length, and JavaScript about 0.5 ns per ASCII byte and 1.5 ns per
 * byte of mixed text, so a whole array is handed over from 32 bytes on (where ws switches too);
 * a range of a larger array needs a view first, which costs about 80 ns more, so from 256 bytes.
 * Measured in bench/utf8.bench.ts.
 */
const NATIVE_MIN_LENGTH = 32;
const NATIVE_MIN_VIEW_LENGTH = 256;

/**
 * Incremental UTF-8 validation of a text message that arrives in pieces (fragments, or parts of
 * a frame still on its way). RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as
 * UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
 * _Fail the WebSocket Connection_." `update` reports the failure at the first byte that makes the
 * stream invalid, so the connection fails before the rest of the message (or of the frame) comes.
 */
export class Utf8Validator {
  #state = ACCEPT;

  /**
   * Feeds `bytes[start..end)` (0 <= start <= end <= bytes.length). Returns false as soon as the
   * bytes seen since the last `reset()` cannot be the beginning of valid UTF-8; from then on every
   * call returns false until `reset()`. A code point may be split across calls at any byte.
   */
  update(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    let state = this.#state;
    if (state === REJECT) return false;
    let index = start;

    // Finish a code point that the previous call left open (at most 3 bytes).
    while (state !== ACCEPT && state !== REJECT && index < end) {
      state = TRANSITIONS[state + bytes[index]!]!;
      index++;
    }

    if (state === ACCEPT && end - index >= NATIVE_MIN_LENGTH) {
      const boundary = lastCodePointBoundary(bytes, index, end);
      const whole = index === 0 && boundary === bytes.length;
      if (whole || boundary - index >= NATIVE_MIN_VIEW_LENGTH) {
        if (!isUtf8(whole ? bytes : bytes.subarray(index, boundary))) {
          this.#state = REJECT;
          return false;
        }
        index = boundary;
      }
    }

    state = validate(bytes, index, end, state);
    this.#state = state;
    return state !== REJECT;
  }

  /** True when everything fed so far is valid UTF-8 that ends on a code-point boundary. Does not reset. */
  finish(): boolean {
    return this.#state === ACCEPT;
  }

  /** Starts a new stream (a new text message). */
  reset(): void {
    this.#state = ACCEPT;
  }
}

/**
 * Runs `bytes[start..end)` from `state`; returns the state after it (REJECT at the first byte
 * that cannot continue valid UTF-8). On a code-point boundary, whole sequences that lie inside
 * the range and are plainly well formed are skipped by comparisons (ASCII four bytes at a time),
 * which is about twice as fast as stepping the DFA on non-ASCII text; anything else (a sequence
 * cut by `end`, or an ill-formed one) is left to the DFA, which alone decides where input fails.
 */
function validate(bytes: Uint8Array, start: number, end: number, initial: number): number {
  let state = initial;
  let index = start;
  if (state === ACCEPT) {
    while (index < end) {
      const first = bytes[index]!;
      if (first < 0x80) {
        const runStart = index;
        while (index + 4 <= end && ((bytes[index]! | bytes[index + 1]! | bytes[index + 2]! | bytes[index + 3]!) & 0x80) === 0) {
          index += 4;
        }
        if (index === runStart) index++;
      } else if (first < 0xe0) {
        if (first < 0xc2 || index + 1 >= end || (bytes[index + 1]! & 0xc0) !== 0x80) break;
        index += 2;
      } else if (first < 0xf0) {
        if (index + 2 >= end) break;
        const second = bytes[index + 1]!;
        if ((second & 0xc0) !== 0x80 || (bytes[index + 2]! & 0xc0) !== 0x80) break;
        if ((first === 0xe0 && second < 0xa0) || (first === 0xed && second > 0x9f)) break;
        index += 3;
      } else {
        if (first > 0xf4 || index + 3 >= end) break;
        const second = bytes[index + 1]!;
        if ((second & 0xc0) !== 0x80 || (bytes[index + 2]! & 0xc0) !== 0x80 || (bytes[index + 3]! & 0xc0) !== 0x80) break;
        if ((first === 0xf0 && second < 0x90) || (first === 0xf4 && second > 0x8f)) break;
        index += 4;
      }
    }
  }
  while (index < end && state !== REJECT) {
    state = TRANSITIONS[state + bytes[index]!]!;
    index++;
  }
  return state;
}

/**
 * The end of the longest prefix of `bytes[start..end)` that ends on a code-point boundary,
 * assuming the stream is valid: found by looking back at most 3 bytes past the last one for the
 * lead byte of the last sequence. If the input is invalid, any answer is fine: whatever lies
 * before it goes to `isUtf8`, whatever lies after it to the DFA, and one of them rejects.
 */
function lastCodePointBoundary(bytes: Uint8Array, start: number, end: number): number {
  const stop = end - 4 > start ? end - 4 : start;
  let lead = end - 1;
  while (lead >= stop && (bytes[lead]! & 0xc0) === 0x80) lead--;
  if (lead < stop) return end;
  const first = bytes[lead]!;
  const sequenceLength = first < 0x80 ? 1 : first < 0xe0 ? 2 : first < 0xf0 ? 3 : 4;
  return lead + sequenceLength <= end ? end : lead;
}

/**
 * Whether a whole message is valid UTF-8 (RFC 6455 §8.1): by Node's native `isUtf8`, or below
 * 32 bytes, where the call costs more than the work, by the JavaScript validator above.
 * For a message that arrives in pieces, use {@link Utf8Validator}.
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return bytes.length < NATIVE_MIN_LENGTH ? validate(bytes, 0, bytes.length, ACCEPT) === ACCEPT : isUtf8(bytes);
}
