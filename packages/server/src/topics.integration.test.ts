import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { Peer } from '../test/connect-peer.js';
import { nextText, topicPeers } from '../test/topic-peers.js';

/** Topics on real sockets, with `ws` clients as peers: subscriptions, publish, compression, close. */

const { started, connect } = topicPeers();

describe('topics', () => {
  it('subscribes, reports the subscriptions, and unsubscribes', async () => {
    const { server, url } = await started();
    const { connection } = await connect(server, url);
    const view = connection.topics;
    expect(view.size).toBe(0);
    expect(connection.subscribe('news')).toBe(true);
    expect(connection.subscribe('news')).toBe(false);
    expect(connection.subscribe('sport')).toBe(true);
    expect(connection.isSubscribed('news')).toBe(true);
    expect(view.size).toBe(2);
    expect([...view]).toEqual(['news', 'sport']);
    expect(view.has('sport')).toBe(true);
    expect(connection.topics).toBe(view);
    expect(server.subscribers('news')).toBe(1);
    expect(connection.unsubscribe('news')).toBe(true);
    expect(connection.unsubscribe('news')).toBe(false);
    expect(connection.isSubscribed('news')).toBe(false);
    expect(server.subscribers('news')).toBe(0);
    expect([...view]).toEqual(['sport']);
    // Iterating over the view while leaving every topic visits each once.
    for (const topic of connection.topics) connection.unsubscribe(topic);
    expect(view.size).toBe(0);
    expect(server.subscribers('sport')).toBe(0);
  });

  it('publishes text and binary to the subscribers only, minus except, and counts them', async () => {
    const { server, url } = await started();
    const [first, second, outsider] = [await connect(server, url), await connect(server, url), await connect(server, url)];
    first.connection.subscribe('news');
    second.connection.subscribe('news');
    outsider.connection.subscribe('other');

    expect(server.publish('news', 'hello')).toEqual({ sent: 2, queued: 0, dropped: 0, closed: 0 });
    expect(await nextText(first)).toBe('hello');
    expect(await nextText(second)).toBe('hello');

    expect(server.publish('news', Buffer.from([1, 2, 3]))).toMatchObject({ sent: 2 });
    expect(await first.next()).toEqual({ data: Buffer.from([1, 2, 3]), isBinary: true });
    expect(await second.next()).toEqual({ data: Buffer.from([1, 2, 3]), isBinary: true });

    expect(server.publish('news', 'as bytes', { binary: true, except: first.connection })).toMatchObject({ sent: 1 });
    expect(await second.next()).toEqual({ data: Buffer.from('as bytes'), isBinary: true });
    expect(server.publish('news', 'nobody', { except: [first.connection, second.connection] })).toMatchObject({ sent: 0 });
    expect(server.publish('empty', 'nobody')).toEqual({ sent: 0, queued: 0, dropped: 0, closed: 0 });

    // Each peer's next message is the marker: nothing else reached it in between.
    for (const peer of [first, second, outsider]) peer.connection.subscribe('marker');
    server.publish('marker', 'marker');
    expect(await nextText(first)).toBe('marker');
    expect(await nextText(second)).toBe('marker');
    expect(await nextText(outsider)).toBe('marker');
  });

  it('sends to a subscriber once however it was published, and nothing after it unsubscribed', async () => {
    const { server, url } = await started();
    const peer = await connect(server, url);
    peer.connection.subscribe('a');
    peer.connection.subscribe('b');
    server.publish('a', 'one');
    peer.connection.unsubscribe('a');
    server.publish('a', 'lost');
    server.publish('b', 'two');
    expect(await nextText(peer)).toBe('one');
    expect(await nextText(peer)).toBe('two');
  });

  it('leaves every topic when the connection closes', async () => {
    const { server, url } = await started();
    const peer = await connect(server, url);
    const staying = await connect(server, url);
    peer.connection.subscribe('news');
    peer.connection.subscribe('sport');
    staying.connection.subscribe('news');
    expect(server.subscribers('news')).toBe(2);
    peer.client.close();
    await once(peer.connection, 'close');
    expect(server.subscribers('news')).toBe(1);
    expect(server.subscribers('sport')).toBe(0);
    expect(peer.connection.topics.size).toBe(0);
    expect(peer.connection.isSubscribed('news')).toBe(false);
    // A closed connection cannot join again.
    expect(peer.connection.subscribe('news')).toBe(false);
    expect(server.subscribers('news')).toBe(1);
    expect(server.publish('news', 'still here')).toMatchObject({ sent: 1 });
    expect(await nextText(staying)).toBe('still here');
  });

  it('rejects a topic that is not a string, and data that cannot be sent, with TypeError', async () => {
    const { server, url } = await started();
    const { connection } = await connect(server, url);
    for (const bad of [1, undefined, null, {}, Symbol('s')]) {
      expect(() => connection.subscribe(bad as never)).toThrow(TypeError);
      expect(() => connection.unsubscribe(bad as never)).toThrow(TypeError);
      expect(() => connection.isSubscribed(bad as never)).toThrow(TypeError);
      expect(() => server.publish(bad as never, 'x')).toThrow(TypeError);
      expect(() => server.subscribers(bad as never)).toThrow(TypeError);
    }
    expect(() => connection.subscribe(1 as never)).toThrow('The "topic" argument must be a string; received number 1');
    expect(() => server.publish('nobody', 42 as never)).toThrow(TypeError);
    connection.subscribe('news');
    expect(() => server.publish('news', 42 as never)).toThrow(TypeError);
  });
});

describe('topics with permessage-deflate', () => {
  const text = 'a published message, compressed once for all its subscribers. '.repeat(64);

  /** Records the frames each connection is handed by a publish. */
  function spyFrames(peers: readonly Peer[]) {
    return peers.map((peer) => vi.spyOn(peer.connection, 'sendFrames'));
  }

  it('frames and compresses a publish once: every subscriber is handed the same compressed frames', async () => {
    const { server, url } = await started({ perMessageDeflate: true });
    const peers = [await connect(server, url), await connect(server, url), await connect(server, url)];
    for (const peer of peers) {
      expect(peer.connection.extensions).toContain('permessage-deflate');
      peer.connection.subscribe('news');
    }
    const spies = spyFrames(peers);
    expect(server.publish('news', text)).toMatchObject({ sent: 3 });
    const handed = spies.map((spy) => spy.mock.calls[0]![0]);
    expect(handed[1]).toBe(handed[0]);
    expect(handed[2]).toBe(handed[0]);
    // FIN + RSV1 (compressed) + text, and far smaller than the text.
    expect(handed[0]![0]![0]).toBe(0xc1);
    expect(handed[0]![0]!.length).toBeLessThan(text.length / 4);
    for (const peer of peers) expect(await nextText(peer)).toBe(text);
  });

  it('sends the same plain frames to all with compress: false, and to peers that did not negotiate compression', async () => {
    const { server, url } = await started({ perMessageDeflate: true });
    const compressing = await connect(server, url);
    const plain = await connect(server, url, { perMessageDeflate: false });
    expect(plain.connection.extensions).toBe('');
    compressing.connection.subscribe('news');
    plain.connection.subscribe('news');
    const [compressingSpy, plainSpy] = spyFrames([compressing, plain]);

    server.publish('news', text, { compress: false });
    const uncompressed = compressingSpy!.mock.calls[0]![0];
    expect(plainSpy!.mock.calls[0]![0]).toBe(uncompressed);
    expect(uncompressed[0]![0]).toBe(0x81);
    expect(await nextText(compressing)).toBe(text);
    expect(await nextText(plain)).toBe(text);

    server.publish('news', Buffer.from(text), { binary: true });
    expect(compressingSpy!.mock.calls[1]![0][0]![0]).toBe(0xc2);
    expect(plainSpy!.mock.calls[1]![0][0]![0]).toBe(0x82);
    expect(await compressing.next()).toEqual({ data: Buffer.from(text), isBinary: true });
    expect(await plain.next()).toEqual({ data: Buffer.from(text), isBinary: true });
  });
});
