import type { ExpectedEvent } from './stream-builder.js';

/**
 * What an engine reported, whole messages assembled (in stream mode too): what chunkings are
 * compared by, and what a generated stream's expectation lists.
 */
export type TraceEvent = ExpectedEvent;

export function sameEvent(a: TraceEvent, b: TraceEvent): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'close' && b.type === 'close') return a.code === b.code && a.reason === b.reason;
  if (a.type === 'message' && b.type === 'message' && a.isBinary !== b.isBinary) return false;
  return (a as { data: Buffer }).data.equals((b as { data: Buffer }).data);
}

export function describeEvent(event: TraceEvent | undefined): string {
  if (event === undefined) return 'nothing';
  if (event.type === 'close') return `close ${event.code} "${event.reason}"`;
  if (event.type === 'message') return `${event.isBinary ? 'binary' : 'text'} message of ${event.data.length} bytes`;
  return `${event.type} of ${event.data.length} bytes`;
}

/** Where two events' payloads first differ, for a failure message ('' when they do not). */
export function firstDifference(a: TraceEvent | undefined, b: TraceEvent | undefined): string {
  if (a === undefined || b === undefined || a.type === 'close' || b.type === 'close') return '';
  const [x, y] = [a.data, b.data];
  let index = 0;
  while (index < x.length && index < y.length && x[index] === y[index]) index++;
  return index === x.length && index === y.length ? '' : ` (payloads differ from byte ${index})`;
}
