import { Buffer } from 'node:buffer';
import { type ReceivedFrame, describePayload, opcodeName } from './frame-reader.js';

/** What a frame must look like; a function decides by itself. */
export type FrameMatcher =
  | {
      readonly opcode?: number;
      readonly fin?: boolean;
      readonly rsv1?: boolean;
      readonly rsv2?: boolean;
      readonly rsv3?: boolean;
      readonly masked?: boolean;
      readonly payload?: string | Uint8Array;
    }
  | ((frame: ReceivedFrame) => boolean);

/** Whether `frame` has every property the matcher names (or the matcher function accepts it). */
export function matchesFrame(frame: ReceivedFrame, matcher: FrameMatcher): boolean {
  if (typeof matcher === 'function') return matcher(frame);
  if (matcher.opcode !== undefined && frame.opcode !== matcher.opcode) return false;
  if (matcher.fin !== undefined && frame.fin !== matcher.fin) return false;
  if (matcher.rsv1 !== undefined && frame.rsv1 !== matcher.rsv1) return false;
  if (matcher.rsv2 !== undefined && frame.rsv2 !== matcher.rsv2) return false;
  if (matcher.rsv3 !== undefined && frame.rsv3 !== matcher.rsv3) return false;
  if (matcher.masked !== undefined && frame.masked !== matcher.masked) return false;
  if (matcher.payload !== undefined) {
    const payload = typeof matcher.payload === 'string' ? Buffer.from(matcher.payload) : Buffer.from(matcher.payload);
    if (!frame.payload.equals(payload)) return false;
  }
  return true;
}

/** The matcher in words, for the "expected" half of a failure message. */
export function describeMatcher(matcher: FrameMatcher): string {
  if (typeof matcher === 'function') return `a frame accepted by ${matcher.name || 'the matcher function'}`;
  const parts: string[] = [];
  if (matcher.fin !== undefined) parts.push(matcher.fin ? 'fin' : 'not fin');
  for (const bit of ['rsv1', 'rsv2', 'rsv3', 'masked'] as const) {
    if (matcher[bit] !== undefined) parts.push(matcher[bit] ? bit : `not ${bit}`);
  }
  const payload =
    matcher.payload === undefined
      ? ''
      : `: ${describePayload(typeof matcher.payload === 'string' ? Buffer.from(matcher.payload) : matcher.payload)}`;
  const name = matcher.opcode === undefined ? 'a frame' : `a ${opcodeName(matcher.opcode)} frame`;
  return `${name}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}${payload}`;
}
