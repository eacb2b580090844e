import { Duplex } from 'node:stream';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { WebSocketError } from './web-socket-error.js';
import { type WebSocketClosedInfo, type WebSocketOpenInfo, WebSocketStream, type WebSocketStreamOptions } from './web-socket-stream.js';

// The WebIDL shape and the argument checks of WebSocketStream, from the proposal
// (https://github.com/whatwg/websockets/pull/48). Every constructor here throws before
// connecting, or talks to a transport that never answers.

const Constructor = WebSocketStream as unknown as new (...args: unknown[]) => WebSocketStream;

/** Options whose transport swallows the handshake request and never answers. */
function silent(options: WebSocketStreamOptions = {}): WebSocketStreamOptions {
  return {
    ...options,
    createConnection: () =>
      new Duplex({
        read() {},
        write(_chunk, _encoding, callback) {
          callback();
        },
      }),
  };
}

describe('the WebSocketStream interface', () => {
  test('has length 1, needs new and a URL (WebIDL argument count)', () => {
    expect(WebSocketStream.length).toBe(1);
    expect(() => new Constructor()).toThrow(TypeError);
    expect(() => (WebSocketStream as unknown as () => void)()).toThrow(TypeError);
  });

  test('url, opened and closed are enumerable accessors; close an enumerable operation of length 0', () => {
    for (const name of ['url', 'opened', 'closed']) {
      const descriptor = Object.getOwnPropertyDescriptor(WebSocketStream.prototype, name)!;
      expect(descriptor).toMatchObject({ enumerable: true, configurable: true, set: undefined });
    }
    expect(Object.getOwnPropertyDescriptor(WebSocketStream.prototype, 'close')).toMatchObject({ enumerable: true, writable: true });
    expect(WebSocketStream.prototype.close.length).toBe(0);
  });

  test('stringifies as [object WebSocketStream]', () => {
    const stream = new WebSocketStream('ws://example.com/', silent());
    expect(Object.prototype.toString.call(stream)).toBe('[object WebSocketStream]');
    stream.close();
  });
});

describe('the constructor', () => {
  test.each(['invalid:', 'ftp://example.com/', 'ws://example.com/#x', '/relative'])('%s is a SyntaxError DOMException', (url) => {
    expect(() => new WebSocketStream(url)).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
  });

  test('options must be a dictionary, protocols a sequence, signal an AbortSignal', () => {
    expect(() => new Constructor('ws://example.com/', true)).toThrow(TypeError);
    expect(() => new Constructor('ws://example.com/', { protocols: 'hi' })).toThrow(TypeError);
    expect(() => new Constructor('ws://example.com/', { signal: {} })).toThrow(TypeError);
    expect(() => new WebSocketStream('ws://example.com/', { readableHighWaterMark: -1 })).toThrow(RangeError);
  });

  test('repeated or invalid protocols are a SyntaxError DOMException', () => {
    for (const protocols of [['a', 'A'], [''], ['a b']]) {
      expect(() => new WebSocketStream('ws://example.com/', { protocols })).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    }
  });

  test('http: becomes ws:, and a relative URL is resolved against baseURL', () => {
    const absolute = new WebSocketStream('http://example.com/feed', silent());
    expect(absolute.url).toBe('ws://example.com/feed');
    absolute.close();
    const relative = new WebSocketStream('/feed', silent({ baseURL: 'https://example.com/app/' }));
    expect(relative.url).toBe('wss://example.com/feed');
    relative.close();
  });

  test('an aborted signal rejects opened and closed with its reason, without connecting', async () => {
    let connected = false;
    const reason = new Error('not now');
    const stream = new WebSocketStream('ws://example.com/', {
      signal: AbortSignal.abort(reason),
      createConnection: () => {
        connected = true;
        throw new Error('unreachable');
      },
    });
    await expect(stream.opened).rejects.toBe(reason);
    await expect(stream.closed).rejects.toBe(reason);
    expect(connected).toBe(false);
  });
});

describe('close()', () => {
  test('converts and validates its WebSocketCloseInfo', () => {
    const stream = new WebSocketStream('ws://example.com/', silent());
    expect(() => stream.close(true as never)).toThrow(TypeError);
    expect(() => stream.close({ closeCode: Number.NaN })).toThrow(TypeError);
    expect(() => stream.close({ closeCode: 65_536 })).toThrow(TypeError);
    for (const closeCode of [999, 1001, 2999, 5000]) {
      expect(() => stream.close({ closeCode })).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    }
    expect(() => stream.close({ reason: '.'.repeat(124) })).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    stream.close();
  });

  test('during the handshake rejects opened and closed with WebSocketErrors', async () => {
    const stream = new WebSocketStream('ws://example.com/', silent());
    stream.close({ closeCode: 1000 });
    const opened = await stream.opened.catch((error: unknown) => error);
    const closed = await stream.closed.catch((error: unknown) => error);
    expect(opened).toBeInstanceOf(WebSocketError);
    expect(opened).toMatchObject({ closeCode: null, cause: expect.objectContaining({ code: 'WS_ERR_HANDSHAKE_ABORTED' }) });
    expect(closed).toBeInstanceOf(WebSocketError);
    expect(closed).toMatchObject({ closeCode: 1006 });
  });
});

describe('types', () => {
  test('opened and closed are typed as the proposal defines them', () => {
    expectTypeOf<WebSocketStream['opened']>().toEqualTypeOf<Promise<WebSocketOpenInfo>>();
    expectTypeOf<WebSocketOpenInfo['readable']>().toEqualTypeOf<ReadableStream<string | Uint8Array>>();
    expectTypeOf<WebSocketStream['closed']>().toEqualTypeOf<Promise<WebSocketClosedInfo>>();
    expectTypeOf<WebSocketClosedInfo>().toEqualTypeOf<{ readonly closeCode: number; readonly reason: string }>();
  });
});
