/** Which rule an engine broke; the fuzzer's summary and replay files name it. */
export const Invariant = {
  /** `receiveData`/`receiveEof` threw on peer input, or a send threw something else than InvalidStateError. */
  NoThrow: 'no-throw',
  /** A close frame carried a code an endpoint may not send, or not the failure's code. */
  CloseCode: 'close-code',
  /** Something besides the close frame and EOF came out after a protocol error, or an event after it. */
  AfterError: 'after-error',
  /** The state went backwards, or disagreed with what was sent and received. */
  State: 'state',
  /** An event held more than the limits allow, or output grew out of proportion to input. */
  Memory: 'memory',
  /** An event or an output frame is malformed (bad UTF-8, bad framing, wrong masking). */
  Wellformed: 'well-formed',
  /** A well-formed stream was not delivered as sent, or a violation was answered with the wrong code. */
  Expectation: 'expectation',
  /** The same bytes, chunked differently, gave different events. */
  ChunkingInvariance: 'chunking-invariance',
} as const;

export type Invariant = (typeof Invariant)[keyof typeof Invariant];

/** An invariant the engine under test broke on one fuzz case. */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
  readonly invariant: Invariant;

  constructor(invariant: Invariant, message: string, options?: { cause?: unknown }) {
    super(`[${invariant}] ${message}`, options);
    this.invariant = invariant;
  }
}
