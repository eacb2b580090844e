import { Duplex } from 'node:stream';
import { afterEach, describe, expect, expectTypeOf, test } from 'vitest';
import type { CloseEvent } from './close-event.js';
import type { ErrorEvent } from './error-event.js';
import type { MessageEvent } from './message-event.js';
import { WebSocket, type WebSocketOptions } from './web-socket.js';

// WebIDL and constructor conformance of WebSocket, written from the WebSockets standard and the
// WebIDL ECMAScript binding; the cases are those of the web-platform-tests /websockets suite that
// need no server. Sockets here talk to a transport that records the opening handshake request
// and never answers, so no test touches the network.

const sockets: WebSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

/** A transport that keeps what the client writes and never answers. */
function silentTransport(): { options: WebSocketOptions; request: Promise<string> } {
  let written = '';
  let resolveRequest!: (request: string) => void;
  const request = new Promise<string>((resolve) => {
    resolveRequest = resolve;
  });
  const options: WebSocketOptions = {
    createConnection: () =>
      new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          written += chunk.toString('latin1');
          if (written.includes('\r\n\r\n')) resolveRequest(written);
          callback();
        },
      }),
  };
  return { options, request };
}

const Constructor = WebSocket as unknown as new (...args: unknown[]) => WebSocket;

/**
 * A socket that stays CONNECTING until the test ends, constructed with these arguments and a
 * silent transport (added to the options, whichever argument holds them).
 */
function connecting(
  url: unknown = 'ws://example.com/',
  protocols?: unknown,
  options: WebSocketOptions = {},
  transport = silentTransport(),
): WebSocket {
  const optionsFirst = typeof protocols === 'object' && protocols !== null && !(Symbol.iterator in protocols);
  const socket = optionsFirst
    ? new Constructor(url, { ...protocols, ...transport.options })
    : new Constructor(url, protocols, { ...options, ...transport.options });
  sockets.push(socket);
  return socket;
}

/** The opening handshake request a socket constructed with these arguments writes. */
async function requestOf(url: string, protocols?: unknown, options: WebSocketOptions = {}): Promise<string> {
  const transport = silentTransport();
  connecting(url, protocols, options, transport);
  return transport.request;
}

const attributes = ['url', 'readyState', 'bufferedAmount', 'onopen', 'onerror', 'onclose', 'extensions', 'protocol', 'onmessage', 'binaryType'];
const handlers = ['onopen', 'onerror', 'onclose', 'onmessage'] as const;

describe('the WebSocket interface object', () => {
  test('has length 1, needs new, and inherits from EventTarget', () => {
    expect(WebSocket.length).toBe(1);
    expect(WebSocket.name).toBe('WebSocket');
    expect(() => (WebSocket as unknown as () => void)()).toThrow(TypeError);
    expect(Object.getPrototypeOf(WebSocket)).toBe(EventTarget);
    expect(Object.getPrototypeOf(WebSocket.prototype)).toBe(EventTarget.prototype);
    expect(Object.getOwnPropertyDescriptor(WebSocket, 'prototype')).toMatchObject({ writable: false, enumerable: false, configurable: false });
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, 'constructor')).toMatchObject({ value: WebSocket, enumerable: false });
  });

  test('throws a TypeError without arguments (WebIDL argument count), not a SyntaxError', () => {
    expect(() => new Constructor()).toThrow(TypeError);
    expect(() => new Constructor()).toThrow('1 argument required, but only 0 present');
  });

  test('ignores a stray argument that is not an options object', () => {
    // The options are a Node extra; WebIDL ignores arguments past the declared ones.
    const socket = new Constructor('ws://127.0.0.1:1/', 'echo', 'Stray argument');
    sockets.push(socket);
    expect(socket).toBeInstanceOf(WebSocket);
    expect(socket.readyState).toBe(WebSocket.CONNECTING);
  });

  test.each(['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'])('%s is a read-only, permanent, enumerable constant of class and prototype', (name) => {
    const value = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].indexOf(name);
    for (const holder of [WebSocket, WebSocket.prototype]) {
      expect(Object.getOwnPropertyDescriptor(holder, name)).toEqual({ value, writable: false, enumerable: true, configurable: false });
      expect(Reflect.set(holder, name, 42)).toBe(false);
      expect(Reflect.deleteProperty(holder, name)).toBe(false);
      expect((holder as unknown as Record<string, number>)[name]).toBe(value);
    }
    // Strict mode code (a module) gets a TypeError for both.
    expect(() => {
      (WebSocket as unknown as Record<string, number>)[name] = 42;
    }).toThrow(TypeError);
    expect(() => delete (WebSocket.prototype as unknown as Record<string, number>)[name]).toThrow(TypeError);
    expect((connecting() as unknown as Record<string, number>)[name]).toBe(value);
  });

  test.each(attributes)('%s is an enumerable, configurable accessor on the prototype', (name) => {
    const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name)!;
    expect(descriptor).toMatchObject({ enumerable: true, configurable: true });
    expect(typeof descriptor.get).toBe('function');
    expect(descriptor.get!.name).toBe(`get ${name}`);
    const writable = name.startsWith('on') || name === 'binaryType';
    expect(typeof descriptor.set).toBe(writable ? 'function' : 'undefined');
  });

  test('send and close are enumerable operations with their WebIDL lengths', () => {
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, 'send')).toMatchObject({ writable: true, enumerable: true, configurable: true });
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, 'close')).toMatchObject({ writable: true, enumerable: true, configurable: true });
    expect(WebSocket.prototype.send.length).toBe(1);
    expect(WebSocket.prototype.close.length).toBe(0);
  });

  test('every member of the interface is enumerable, and nothing else is', () => {
    const enumerable = [];
    for (const key in WebSocket.prototype) enumerable.push(key);
    expect(enumerable.sort()).toEqual(
      [...attributes, 'send', 'close', 'CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']
        .concat(['addEventListener', 'removeEventListener', 'dispatchEvent'])
        .sort(),
    );
  });

  test('@@toStringTag is WebSocket', () => {
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, Symbol.toStringTag)).toEqual({
      value: 'WebSocket',
      writable: false,
      enumerable: false,
      configurable: true,
    });
    expect(Object.prototype.toString.call(connecting())).toBe('[object WebSocket]');
    expect(Object.prototype.toString.call(WebSocket.prototype)).toBe('[object WebSocket]');
  });

  test('members called on another object throw a TypeError (brand check)', () => {
    const url = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'url')!.get!;
    expect(() => url.call({})).toThrow(TypeError);
    expect(() => WebSocket.prototype.send.call({}, 'x')).toThrow(TypeError);
    expect(() => WebSocket.prototype.close.call({})).toThrow(TypeError);
  });
});

describe('the url argument', () => {
  test.each([
    'ws://foo bar.com/',
    'wss://foo bar.com/',
    'ftp://example.com/',
    'mailto:example@example.org',
    'about:blank',
    'ws://example.com/#',
    'ws://example.com/#test',
    '#test',
    '/relative',
    'not a url',
  ])('%s is a SyntaxError DOMException', (url) => {
    const error = captureError(() => new WebSocket(url));
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('SyntaxError');
  });

  test('http: and https: URLs become ws: and wss:', () => {
    expect(connecting('http://example.com/chat?x=1').url).toBe('ws://example.com/chat?x=1');
    expect(connecting('https://example.com').url).toBe('wss://example.com/');
  });

  test('is converted to a USVString: URL objects, objects with toString, lone surrogates', () => {
    expect(connecting(new URL('ws://example.com/a')).url).toBe('ws://example.com/a');
    expect(connecting({ toString: () => 'ws://example.com/b' }).url).toBe('ws://example.com/b');
    expect(connecting('ws://example.com/\uD800').url).toBe('ws://example.com/%EF%BF%BD');
    expect(() => connecting(Symbol('url'))).toThrow(TypeError);
  });

  test('a relative URL is resolved against baseURL; http: bases give ws: URLs', () => {
    expect(connecting('/chat', undefined, { baseURL: 'https://example.com/app/' }).url).toBe('wss://example.com/chat');
    expect(connecting('feed?x=1', [], { baseURL: new URL('http://example.com:8080/app/') }).url).toBe('ws://example.com:8080/app/feed?x=1');
    expect(connecting('?q', { baseURL: 'http://example.com/page' }).url).toBe('ws://example.com/page?q');
    expect(captureError(() => connecting('#top', [], { baseURL: 'http://example.com/' }))).toMatchObject({ name: 'SyntaxError' });
    expect(() => connecting('/chat', [], { baseURL: 'not absolute' })).toThrow(TypeError);
  });

  test('the origin option is sent as the Origin header', async () => {
    const request = await requestOf('ws://example.com/', [], { origin: 'https://app.example.com' });
    expect(request).toMatch(/\r\norigin: https:\/\/app\.example\.com\r\n/i);
    expect(await requestOf('ws://example.com/')).not.toMatch(/\r\norigin:/i);
  });
});

describe('the protocols argument', () => {
  test.each([
    ['a string', 'chat', 'chat'],
    ['an array', ['chat', 'superchat'], 'chat, superchat'],
    ['any iterable', new Set(['a', 'b']), 'a, b'],
    ['a number, converted to a string', 7, '7'],
    ['the protocols option', { protocols: ['x'] }, 'x'],
  ])('%s is offered', async (_name, protocols, header) => {
    expect(await requestOf('ws://example.com/', protocols)).toMatch(new RegExp(`\\r\\nsec-websocket-protocol: ${header}\\r\\n`, 'i'));
  });

  test.each([[undefined], [null], [[]]])('%s offers none', async (protocols) => {
    expect(await requestOf('ws://example.com/', protocols)).not.toMatch(/sec-websocket-protocol/i);
  });

  test.each([
    ['repeated', ['chat', 'chat']],
    ['repeated in another case', ['chat', 'CHAT']],
    ['empty', ''],
    ['with a space', 'has space'],
    ['with a separator', 'a,b'],
    ['non-ASCII', 'é'],
    ['with a control character', 'a\u0001'],
  ])('%s is a SyntaxError DOMException', (_name, protocols) => {
    expect(captureError(() => connecting('ws://example.com/', protocols))).toMatchObject({ name: 'SyntaxError' });
  });
});

describe('event handler attributes', () => {
  test.each(handlers)('%s is null, takes a function, and treats non-objects as null', (name) => {
    const socket = connecting();
    expect(socket[name]).toBeNull();
    const handler = (): void => undefined;
    socket[name] = handler;
    expect(socket[name]).toBe(handler);
    (socket as unknown as Record<string, unknown>)[name] = 2;
    expect(socket[name]).toBeNull();
    (socket as unknown as Record<string, unknown>)[name] = 'alert(1)';
    expect(socket[name]).toBeNull();
  });

  test.each(handlers)('%s stores and returns an object with handleEvent, without calling it', (name) => {
    const socket = connecting();
    const calls: unknown[] = [];
    const listenerObject = { handleEvent: (event: Event) => calls.push(event) };
    (socket as unknown as Record<string, unknown>)[name] = listenerObject;
    expect(socket[name]).toBe(listenerObject);
    socket.dispatchEvent(new Event(name.slice(2)));
    expect(calls).toEqual([]);
    socket[name] = null;
    expect(socket[name]).toBeNull();
  });

  test('a handler is called with the socket as this; returning false cancels a cancelable event', () => {
    const socket = connecting();
    const thisValues: unknown[] = [];
    socket.onopen = function (this: WebSocket) {
      thisValues.push(this);
      return false;
    };
    const event = new Event('open', { cancelable: true });
    socket.dispatchEvent(event);
    expect(thisValues).toEqual([socket]);
    expect(event.defaultPrevented).toBe(true);
  });
});

describe('send()', () => {
  test('without an argument is a TypeError, even while CONNECTING', () => {
    const socket = connecting();
    expect(() => (socket.send as () => void)()).toThrow(TypeError);
  });

  test('while CONNECTING is an InvalidStateError, after converting its argument', () => {
    const socket = connecting();
    for (const data of ['text', new ArrayBuffer(1), new Uint8Array(1), new Blob(['x']), null, 42]) {
      expect(captureError(() => socket.send(data as string))).toMatchObject({ name: 'InvalidStateError' });
    }
    expect(() => socket.send(Symbol('data') as unknown as string)).toThrow(TypeError);
    expect(() => socket.send(new Uint8Array(new SharedArrayBuffer(4)))).toThrow(TypeError);
  });
});

describe('close()', () => {
  test('converts its code with [Clamp] and checks it before the state', () => {
    const socket = connecting();
    for (const code of [0, 500, 999, 1001, 2999, 5000, 65_535, 0x10000 + 1000, Number.NaN, -1, 'string', null]) {
      expect(captureError(() => socket.close(code as number))).toMatchObject({ name: 'InvalidAccessError' });
    }
    expect(() => socket.close(Symbol('code') as unknown as number)).toThrow(TypeError);
    expect(() => socket.close(10n as unknown as number)).toThrow(TypeError);
    expect(captureError(() => socket.close(1000, 'x'.repeat(124)))).toMatchObject({ name: 'SyntaxError' });
    expect(socket.readyState).toBe(WebSocket.CONNECTING);
    socket.close(999.5 + 2000.5, 'é'.repeat(61));
    expect(socket.readyState).toBe(WebSocket.CLOSING);
  });
});

describe('binaryType', () => {
  test('is blob, takes the enumeration values (converted to strings) and ignores others', () => {
    const socket = connecting();
    expect(socket.binaryType).toBe('blob');
    socket.binaryType = 'arraybuffer';
    socket.binaryType = 'bogus' as 'blob';
    expect(socket.binaryType).toBe('arraybuffer');
    socket.binaryType = { toString: () => 'nodebuffer' } as unknown as 'blob';
    expect(socket.binaryType).toBe('nodebuffer');
    expect(() => {
      socket.binaryType = Symbol('type') as unknown as 'blob';
    }).toThrow(TypeError);
  });
});

describe('types', () => {
  test('handlers and listeners are typed as in lib.dom', () => {
    const socket = connecting();
    socket.onmessage = (event) => event.data as unknown;
    socket.onclose = (event) => [event.code, event.reason, event.wasClean];
    socket.addEventListener('message', (event) => event.origin);
    socket.addEventListener('close', (event) => event.code, { once: true });
    expectTypeOf<NonNullable<WebSocket['onmessage']>>().parameter(0).toEqualTypeOf<MessageEvent>();
    expectTypeOf<NonNullable<WebSocket['onmessage']>>().thisParameter.toEqualTypeOf<WebSocket>();
    expectTypeOf<NonNullable<WebSocket['onclose']>>().parameter(0).toEqualTypeOf<CloseEvent>();
    expectTypeOf<NonNullable<WebSocket['onerror']>>().parameter(0).toEqualTypeOf<ErrorEvent>();
    expectTypeOf<NonNullable<WebSocket['onopen']>>().parameter(0).toEqualTypeOf<Event>();
    expectTypeOf<WebSocket['onmessage']>().toEqualTypeOf<((this: WebSocket, event: MessageEvent) => unknown) | null>();
    expectTypeOf<MessageEvent['data']>().toBeAny();
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an exception');
}
