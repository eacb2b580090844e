import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { CLUSTER_MESSAGE_KEY, clusterMessageType, decodePayload, encodePayload } from './cluster-message.js';

describe('cluster messages', () => {
  const bytes = Buffer.from([0, 1, 0xfe, 0xff, 0x80]);

  it('carries bytes as they are under advanced serialization and as base64 under json', () => {
    expect(encodePayload(bytes, true)).toBe(bytes);
    expect(encodePayload(bytes, false)).toBe('AAH+/4A=');
    expect(decodePayload('AAH+/4A=')).toEqual(bytes);
    // What structured clone hands over: a Uint8Array, maybe a view into a larger buffer.
    const view = new Uint8Array([9, ...bytes, 9]).subarray(1, 6);
    expect(decodePayload(view)).toEqual(bytes);
    expect(decodePayload({ type: 'Buffer', data: [1] })).toBeUndefined();
    expect(decodePayload(undefined)).toBeUndefined();
  });

  it('tells its own messages from the application', () => {
    expect(clusterMessageType({ [CLUSTER_MESSAGE_KEY]: 'publish' })).toBe('publish');
    expect(clusterMessageType({ cmd: 'app' })).toBeUndefined();
    expect(clusterMessageType('text')).toBeUndefined();
    expect(clusterMessageType(null)).toBeUndefined();
  });
});
