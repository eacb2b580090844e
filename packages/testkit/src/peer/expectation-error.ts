import { formatTranscript, type TranscriptEntry } from './transcript.js';

/** Entries of the transcript an expectation failure prints. */
const TRANSCRIPT_TAIL = 16;

/**
 * An expectation of a scripted peer was not met. The message says what was expected, what
 * arrived instead, and shows the last bytes of the connection in hex, so that a failing test
 * explains itself.
 */
export class ExpectationError extends Error {
  override readonly name = 'ExpectationError';
  readonly expected: string;
  readonly actual: string;
  readonly transcript: readonly TranscriptEntry[];

  constructor(summary: string, expected: string, actual: string, transcript: readonly TranscriptEntry[]) {
    super(
      `${summary}\nTranscript (last ${Math.min(TRANSCRIPT_TAIL, transcript.length)} of ${transcript.length} entries):\n${formatTranscript(transcript, { tail: TRANSCRIPT_TAIL })}`,
    );
    this.expected = expected;
    this.actual = actual;
    this.transcript = transcript;
  }
}
