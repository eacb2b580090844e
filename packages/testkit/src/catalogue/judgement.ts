import { Buffer } from 'node:buffer';
import { type CaseContext, Outcome, type Verdict } from './conformance-case.js';
import { type ObservedEvent, type TrafficEvent, describeEvent } from './peer-observer.js';

/** A message or pong a case expects from the implementation. */
export type Expected = TrafficEvent;

export function text(data: string | Uint8Array): Expected {
  return { type: 'message', binary: false, data: Buffer.from(typeof data === 'string' ? Buffer.from(data) : data) };
}

export function binary(data: string | Uint8Array): Expected {
  return { type: 'message', binary: true, data: Buffer.from(typeof data === 'string' ? Buffer.from(data) : data) };
}

export function pong(payload: string | Uint8Array = Buffer.alloc(0)): Expected {
  return { type: 'pong', payload: Buffer.from(typeof payload === 'string' ? Buffer.from(payload) : payload) };
}

const SEVERITY: Readonly<Record<Outcome, number>> = { pass: 0, informational: 1, 'non-strict': 2, fail: 3, 'not-applicable': 0 };

/** Verdicts of the steps of a case, combined: the worst outcome, every reason. */
export function combine(...verdicts: readonly Verdict[]): Verdict {
  let outcome: Outcome = Outcome.Pass;
  for (const verdict of verdicts) if (SEVERITY[verdict.outcome] > SEVERITY[outcome]) outcome = verdict.outcome;
  return { outcome, reason: verdicts.map((verdict) => verdict.reason).join('; ') };
}

/** An informational case: its outcome is informational unless something failed. */
export function informational(verdict: Verdict): Verdict {
  return verdict.outcome === Outcome.Fail ? verdict : { outcome: Outcome.Informational, reason: verdict.reason };
}

export const pass = (reason: string): Verdict => ({ outcome: Outcome.Pass, reason });
export const nonStrict = (reason: string): Verdict => ({ outcome: Outcome.NonStrict, reason });
export const fail = (reason: string): Verdict => ({ outcome: Outcome.Fail, reason });

function sameEvent(actual: TrafficEvent, expected: Expected): boolean {
  if (actual.type === 'pong') return expected.type === 'pong' && actual.payload.equals(expected.payload);
  return expected.type === 'message' && actual.binary === expected.binary && actual.data.equals(expected.data);
}

export function sameTraffic(actual: readonly TrafficEvent[], expected: readonly Expected[]): boolean {
  return actual.length === expected.length && actual.every((event, index) => sameEvent(event, expected[index]!));
}

/** "[text message "Hello", pong empty]"; long lists are summarised. */
export function describeTraffic(events: readonly TrafficEvent[]): string {
  if (events.length === 0) return 'nothing';
  const shown = events.slice(0, 4).map(describeEvent);
  if (events.length > 4) shown.push(`… ${events.length - 4} more`);
  return shown.join(', ');
}

interface Collected {
  readonly traffic: TrafficEvent[];
  /** What ended the collection; undefined when `count` events arrived. */
  readonly end: Exclude<ObservedEvent, TrafficEvent> | undefined;
}

/** Collects messages and pongs until `count` of them, a close frame, EOF, a violation, or the timeout. */
async function collect(context: CaseContext, timeout: number, count = Number.POSITIVE_INFINITY): Promise<Collected> {
  const traffic: TrafficEvent[] = [];
  const deadline = performance.now() + timeout;
  while (traffic.length < count) {
    const event = await context.observer.next(Math.max(0, deadline - performance.now()));
    if (event.type === 'message' || event.type === 'pong') traffic.push(event);
    else return { traffic, end: event };
  }
  return { traffic, end: undefined };
}

/**
 * After the closing handshake, the TCP connection must go. RFC 6455 §5.5.1: "After both
 * sending and receiving a Close message, an endpoint considers the WebSocket connection closed
 * and MUST close the underlying TCP connection. The server MUST close the underlying TCP
 * connection immediately". When testing a client, the testkit is the server: it closes first
 * and then expects the client to close its side.
 */
async function awaitTcpClose(context: CaseContext): Promise<Verdict> {
  const { observer, peer, target, timeouts } = context;
  if (target === 'client') await peer.halfClose();
  if (observer.eof) return pass(`TCP closed by the ${target}`);
  const event = await observer.next(timeouts.close);
  if (event.type === 'eof') return pass(`TCP closed by the ${target}`);
  if (event.type === 'timeout') {
    return fail(
      target === 'server'
        ? `the server did not close the TCP connection within ${timeouts.close} ms of the closing handshake`
        : `the client did not close the TCP connection within ${timeouts.close} ms of the closing handshake and the server's FIN`,
    );
  }
  return fail(`after the closing handshake: ${describeEvent(event)}`);
}

/** Replies to the implementation's close frame (unless we already sent one) and checks TCP goes. */
async function completeClose(context: CaseContext, code: number): Promise<Verdict> {
  if (!context.peer.closeFrameSent) {
    // RFC 6455 §5.5.1: "When sending a Close frame in response, the endpoint typically echos the status code it received."
    await context.peer.sendClose(code === 1005 ? undefined : code);
  }
  return awaitTcpClose(context);
}

export interface EchoOptions {
  /** The close code the testkit ends the case with. Default 1000. */
  readonly closeCode?: number;
  readonly closeReason?: string;
  /** Codes the close reply may carry. Default: the close code (and an empty body, 1005). */
  readonly acceptCloseCodes?: readonly number[];
  /** Judges traffic that differs from `expected`: a reason makes it non-strict, undefined a failure. */
  readonly nonStrict?: (traffic: readonly TrafficEvent[]) => string | undefined;
  /** Milliseconds to wait for the expected traffic. Default: the response timeout. */
  readonly timeout?: number;
  /**
   * Close codes by which an implementation refuses a message that exceeds one of its limits
   * (1008, 1009): non-strict rather than a failure, since RFC 6455 §10.4 says an
   * implementation SHOULD impose limits.
   */
  readonly limitCloseCodes?: readonly number[];
}

/**
 * The implementation must send exactly `expected` (echoes, pongs), then take part in a normal
 * closing handshake started by the testkit (unless the case already sent its close frame),
 * then close TCP.
 */
export async function judgeEcho(context: CaseContext, expected: readonly Expected[], options: EchoOptions = {}): Promise<Verdict> {
  const { peer, timeouts } = context;
  const traffic: TrafficEvent[] = [];
  if (!peer.closeFrameSent) {
    if (expected.length > 0) {
      const before = await collect(context, options.timeout ?? timeouts.response, expected.length);
      traffic.push(...before.traffic);
      if (before.end?.type === 'close' && options.limitCloseCodes?.includes(before.end.code) === true) {
        return combine(
          nonStrict(`refused the message with ${before.end.code}: a limit of the implementation (RFC 6455 §10.4), not an echo`),
          await completeClose(context, before.end.code),
        );
      }
      if (before.end !== undefined && before.end.type !== 'timeout') {
        return fail(`expected ${describeTraffic(expected)}, got ${describeTraffic(traffic)} then ${describeEvent(before.end)}`);
      }
    }
    await peer.sendClose(options.closeCode ?? 1000, options.closeReason ?? '');
  }
  const after = await collect(context, timeouts.response);
  traffic.push(...after.traffic);
  let trafficVerdict: Verdict;
  if (sameTraffic(traffic, expected)) {
    trafficVerdict = pass(expected.length === 0 ? 'sent nothing in reply, as expected' : `sent ${describeTraffic(traffic)}`);
  } else {
    const reason = options.nonStrict?.(traffic);
    const difference = `expected ${describeTraffic(expected)}, got ${describeTraffic(traffic)}`;
    trafficVerdict = reason === undefined ? fail(difference) : nonStrict(`${difference}: ${reason}`);
  }
  const end = after.end;
  if (end === undefined || end.type !== 'close') {
    const what = end === undefined || end.type === 'timeout' ? `nothing within ${timeouts.response} ms` : describeEvent(end);
    // RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
    // Close frame, the endpoint MUST send a Close frame in response."
    return combine(trafficVerdict, fail(`expected a close frame in reply to ours, got ${what}`));
  }
  const accepted = options.acceptCloseCodes ?? [options.closeCode ?? 1000];
  const closeVerdict =
    accepted.includes(end.code) || end.code === 1005
      ? pass(`replied to the close frame with ${end.code === 1005 ? 'an empty close frame' : end.code}`)
      : nonStrict(`replied to the close frame with code ${end.code}, expected ${accepted.join(' or ')}`);
  return combine(trafficVerdict, closeVerdict, await awaitTcpClose(context));
}

export interface FailureOptions {
  /** Close codes that make the case pass (1002 protocol error, 1007 invalid payload, …). */
  readonly codes: readonly number[];
  /** Close codes that are acceptable but not the best: non-strict. */
  readonly tolerate?: readonly number[];
  /** Traffic expected before the failure (e.g. the echo of a valid message sent first). */
  readonly before?: readonly Expected[];
  /** Alternatives to `before` that are non-strict, e.g. failing before echoing. */
  readonly nonStrictBefore?: readonly (readonly Expected[])[];
}

/**
 * The implementation must _Fail the WebSocket Connection_: RFC 6455 §7.1.7 "If _The WebSocket
 * Connection is Established_ prior to the point where the endpoint is required to _Fail the
 * WebSocket Connection_, the endpoint SHOULD send a Close frame with an appropriate status code
 * (Section 7.4) before proceeding to _Close the WebSocket Connection_." A close frame with an
 * expected code passes; dropping TCP without one, or a tolerated code, is non-strict.
 */
export async function judgeFailure(context: CaseContext, options: FailureOptions): Promise<Verdict> {
  const { timeouts } = context;
  const collected = await collect(context, timeouts.response);
  const before = options.before ?? [];
  let trafficVerdict: Verdict;
  if (sameTraffic(collected.traffic, before)) {
    trafficVerdict = pass(before.length === 0 ? 'sent no message' : `sent ${describeTraffic(before)} first`);
  } else if (options.nonStrictBefore?.some((alternative) => sameTraffic(collected.traffic, alternative))) {
    trafficVerdict = nonStrict(`sent ${describeTraffic(collected.traffic)} before failing; ${describeTraffic(before)} was best`);
  } else {
    trafficVerdict = fail(`expected ${describeTraffic(before)} before the failure, got ${describeTraffic(collected.traffic)}`);
  }
  const end = collected.end;
  const expectedCodes = options.codes.join(' or ');
  if (end === undefined || end.type === 'timeout') {
    return combine(trafficVerdict, fail(`the connection was not failed within ${timeouts.response} ms (expected close ${expectedCodes})`));
  }
  if (end.type === 'violation') return combine(trafficVerdict, fail(describeEvent(end)));
  if (end.type === 'eof') {
    return combine(trafficVerdict, nonStrict(`dropped TCP without a close frame (a close frame with ${expectedCodes} was best)`));
  }
  let codeVerdict: Verdict;
  if (options.codes.includes(end.code)) codeVerdict = pass(`failed the connection with ${end.code}`);
  else if (options.tolerate?.includes(end.code)) {
    codeVerdict = nonStrict(`failed the connection with ${end.code}; ${expectedCodes} is the appropriate code`);
  } else if (end.code === 1005) codeVerdict = nonStrict(`failed the connection with an empty close frame; ${expectedCodes} was best`);
  else codeVerdict = fail(`closed with ${end.code}, expected ${expectedCodes}`);
  return combine(trafficVerdict, codeVerdict, await completeClose(context, end.code));
}

/**
 * Fail fast: the case has sent the start of something invalid and holds back the rest. Failing
 * before the rest is sent passes; failing only once the whole message is there is non-strict.
 */
export async function judgeFailFast(
  context: CaseContext,
  sendRest: () => Promise<void>,
  options: FailureOptions,
): Promise<Verdict> {
  const early = await context.observer.peek(context.timeouts.failFast);
  if (early.type !== 'timeout') return judgeFailure(context, options);
  await sendRest();
  const verdict = await judgeFailure(context, options);
  if (verdict.outcome !== Outcome.Pass) return verdict;
  return nonStrict(`${verdict.reason}, but only after the rest of the message arrived (not within ${context.timeouts.failFast} ms of the invalid bytes)`);
}

/**
 * For cases where more than one behaviour is allowed: collects what the implementation sends
 * until it closes (the case has sent its close frame, or the implementation fails the
 * connection), describes it, and completes the closing handshake. Informational unless a rule
 * was broken.
 */
export async function judgeObserved(
  context: CaseContext,
  options: { readonly forbidden?: (traffic: readonly TrafficEvent[]) => string | undefined } = {},
): Promise<Verdict> {
  const { timeouts } = context;
  const collected = await collect(context, timeouts.response);
  const traffic = collected.traffic;
  const forbidden = options.forbidden?.(traffic);
  const trafficVerdict = forbidden === undefined ? pass(`sent ${describeTraffic(traffic)}`) : fail(forbidden);
  const end = collected.end;
  if (end === undefined || end.type === 'timeout') return combine(trafficVerdict, fail(`no close frame within ${timeouts.response} ms`));
  if (end.type === 'violation') return combine(trafficVerdict, fail(describeEvent(end)));
  if (end.type === 'eof') return informational(combine(trafficVerdict, pass('then dropped TCP without a close frame')));
  return informational(combine(trafficVerdict, pass(`then sent a ${describeEvent(end)}`), await completeClose(context, end.code)));
}
