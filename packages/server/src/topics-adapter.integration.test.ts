import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../test/memory-bus.js';
import { startServer } from '../test/start-server.js';
import { type ListeningOptions, nextText, topicPeers } from '../test/topic-peers.js';
import { type Adapter, WebSocketServer } from './index.js';

/**
 * The adapter seam on real sockets: when a server calls its adapter, what it hands on, how it
 * delivers what the adapter brings from elsewhere, and two servers sharing topics through an
 * in-memory bus (the cluster and Redis adapters have tests of their own).
 */

const { cleanups, started, connect } = topicPeers();

describe('the adapter seam', () => {
  it('subscribes the process with the first local subscriber and unsubscribes it with the last, closes included', async () => {
    const adapter = new MemoryBus().adapter();
    const { server, url } = await started({ adapter });
    expect(adapter.calls).toEqual(['attach']);
    const [first, second] = [await connect(server, url), await connect(server, url)];
    first.connection.subscribe('news');
    second.connection.subscribe('news');
    second.connection.subscribe('sport');
    first.connection.unsubscribe('news');
    second.client.close();
    await once(second.connection, 'close');
    expect(adapter.calls).toEqual(['attach', 'subscribe news', 'subscribe sport', 'unsubscribe news', 'unsubscribe sport']);
  });

  it('hands every publish on with its flags after writing to the local subscribers, and counts the local ones', async () => {
    const adapter = new MemoryBus().adapter();
    const { server, url } = await started({ adapter });
    const peer = await connect(server, url);
    peer.connection.subscribe('news');
    expect(server.publish('news', 'hello')).toMatchObject({ sent: 1 });
    expect(server.publish('elsewhere', Buffer.from([1, 2]), { compress: false })).toEqual({ sent: 0, queued: 0, dropped: 0, closed: 0 });
    expect(server.publish('news', 'bytes', { binary: true, except: peer.connection })).toMatchObject({ sent: 0 });
    expect(adapter.published).toEqual([
      { topic: 'news', payload: Buffer.from('hello'), flags: { binary: false, compress: true } },
      { topic: 'elsewhere', payload: Buffer.from([1, 2]), flags: { binary: true, compress: false } },
      // `except` names local connections: the other processes' subscribers still get it.
      { topic: 'news', payload: Buffer.from('bytes'), flags: { binary: true, compress: true } },
    ]);
    expect(await nextText(peer)).toBe('hello');
  });

  it('frames a message from elsewhere once for the local subscribers, and drops it when there are none', async () => {
    const adapter = new MemoryBus().adapter();
    const { server, url } = await started({ adapter });
    const peers = [await connect(server, url), await connect(server, url)];
    for (const peer of peers) peer.connection.subscribe('news');
    const spies = peers.map((peer) => vi.spyOn(peer.connection, 'sendFrames'));
    adapter.deliver!('nobody', Buffer.from('lost'), { binary: false, compress: true });
    adapter.deliver!('news', Buffer.from([7, 8, 9]), { binary: true, compress: true });
    expect(spies[1]!.mock.calls[0]![0]).toBe(spies[0]!.mock.calls[0]![0]);
    for (const peer of peers) expect(await peer.next()).toEqual({ data: Buffer.from([7, 8, 9]), isBinary: true });
    expect(spies[0]!.mock.calls).toHaveLength(1);
  });

  it('closes the adapter with the server, and makes no call and no delivery after it', async () => {
    const adapter = new MemoryBus().adapter();
    const { server, url } = await started({ adapter });
    const peer = await connect(server, url);
    peer.connection.subscribe('news');
    const sendFrames = vi.spyOn(peer.connection, 'sendFrames');
    await server.close({ timeout: 200 });
    expect(adapter.calls).toEqual(['attach', 'subscribe news', 'close']);
    adapter.deliver!('news', Buffer.from('late'), { binary: false, compress: true });
    expect(sendFrames).not.toHaveBeenCalled();
    expect(server.publish('news', 'after close')).toEqual({ sent: 0, queued: 0, dropped: 0, closed: 0 });
    expect(adapter.calls.at(-1)).toBe('close');
  });

  it('finishes closing when the adapter fails to close, and reports its error', async () => {
    const adapter = new MemoryBus().adapter();
    const failure = new Error('broker gone');
    adapter.close = () => Promise.reject(failure);
    const { server } = await startServer({ adapter });
    cleanups.push(() => server.close().catch(() => undefined));
    const closed = once(server, 'close');
    await expect(server.close({ timeout: 200 })).rejects.toBe(failure);
    await closed;
  });

  it('rejects an adapter option without the adapter methods with a TypeError naming it', () => {
    const partial = { attach() {}, subscribe() {}, unsubscribe() {} } as unknown as Adapter;
    expect(() => new WebSocketServer({ noServer: true, adapter: partial })).toThrow(
      'The "adapter" option must be an object with the methods attach, subscribe, unsubscribe, publish, close; missing publish, close',
    );
    expect(() => new WebSocketServer({ noServer: true, adapter: 'redis' as never })).toThrow(TypeError);
    expect(() => new WebSocketServer({ noServer: true, adapter: null as never })).toThrow(TypeError);
  });
});

describe('two servers sharing topics through an adapter', () => {
  async function pair(options: ListeningOptions = {}) {
    const bus = new MemoryBus();
    const [a, b] = [await started({ ...options, adapter: bus.adapter() }), await started({ ...options, adapter: bus.adapter() })];
    return { a, b };
  }

  it('delivers a publish once to every subscriber of both servers, in order, text and binary', async () => {
    const { a, b } = await pair();
    const [onA, firstOnB, secondOnB, outsider] = [
      await connect(a.server, a.url),
      await connect(b.server, b.url),
      await connect(b.server, b.url),
      await connect(b.server, b.url),
    ];
    for (const peer of [onA, firstOnB, secondOnB]) peer.connection.subscribe('news');
    outsider.connection.subscribe('other');

    const count = 50;
    for (let index = 0; index < count; index++) {
      // Counted: the local subscriber on a only; b's are the adapter's.
      expect(a.server.publish('news', index % 2 === 0 ? `text ${index}` : Buffer.from([index]))).toMatchObject({ sent: 1 });
    }
    a.server.publish('other', 'marker');
    b.server.publish('news', 'marker');
    for (const peer of [onA, firstOnB, secondOnB]) {
      for (let index = 0; index < count; index++) {
        const expected = index % 2 === 0 ? { data: Buffer.from(`text ${index}`), isBinary: false } : { data: Buffer.from([index]), isBinary: true };
        expect(await peer.next()).toEqual(expected);
      }
      // Nothing twice: the next message is the marker b published after them.
      expect(await nextText(peer)).toBe('marker');
    }
    expect(await nextText(outsider)).toBe('marker');
  });

  it('compresses what arrives from elsewhere with the receiving server settings, unless published with compress: false', async () => {
    const { a, b } = await pair({ perMessageDeflate: true });
    const receiver = await connect(b.server, b.url);
    receiver.connection.subscribe('news');
    const sendFrames = vi.spyOn(receiver.connection, 'sendFrames');
    const text = 'compressed where it is delivered. '.repeat(64);
    a.server.publish('news', text);
    a.server.publish('news', text, { compress: false });
    expect(sendFrames.mock.calls[0]![0][0]![0]).toBe(0xc1);
    expect(sendFrames.mock.calls[1]![0][0]![0]).toBe(0x81);
    expect(await nextText(receiver)).toBe(text);
    expect(await nextText(receiver)).toBe(text);
  });
});
