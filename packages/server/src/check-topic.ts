/**
 * A topic is any string (the empty string included): it names a channel between the server and
 * its adapter, so a number or an object would be a different channel in another process.
 */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string') {
    const received = topic === null ? 'null' : typeof topic === 'object' ? 'an object' : `${typeof topic} ${String(topic)}`;
    throw new TypeError(`The "topic" argument must be a string; received ${received}`);
  }
}
