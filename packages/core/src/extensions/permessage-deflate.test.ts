import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  ClientProtocol,
  Opcode,
  type Protocol,
  type ProtocolEvent,
  type ProtocolError,
  ReceiveMode,
  SEND_EOF,
  ServerProtocol,
  acceptPerMessageDeflate,
  acceptPerMessageDeflateResponse,
  compressMessage,
  offerPerMessageDeflate,
  parseExtensionOffers,
  type PerMessageDeflateClientOptions,
  type PerMessageDeflateServerOptions,
  InvalidStateError,
} from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { CHUNKINGS, type Chunking, closeCodeIn, decodeFrames, feed, hex, maskedFrame } from '../../test/wire.js';
import { PerMessageDeflate } from './permessage-deflate.js';

const fixedMask = () => hex('37 fa 21 3d');

/** Compressible text with 2- and 3-byte UTF-8 characters, cut at a character boundary near `byteLength`. */
function textOfLength(byteLength: number): Buffer {
  const words = ['café ', 'naïve ', 'price: 42€ ', 'lorem ', 'ipsum ', 'dolor ', 'sit ', 'amet, '];
  const parts: string[] = [];
  let length = 0;
  for (let index = 0; length < byteLength; index++) {
    const word = words[(index * 5 + (index >> 3)) % words.length]!;
    parts.push(word);
    length += Buffer.byteLength(word);
  }
  let bytes = Buffer.from(parts.join('')).subarray(0, byteLength);
  while (bytes.length > 0 && (bytes[bytes.length - 1]! & 0xc0) === 0x80) bytes = bytes.subarray(0, -1);
  if (bytes.length > 0 && bytes[bytes.length - 1]! >= 0xc0) bytes = bytes.subarray(0, -1);
  return Buffer.from(bytes);
}

/** Binary data that compresses somewhat (a repeating pseudo-random pattern with noise). */
function binaryOfLength(byteLength: number): Buffer {
  const bytes = Buffer.alloc(byteLength);
  let seed = 12345;
  for (let index = 0; index < byteLength; index++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    bytes[index] = index % 7 === 0 ? seed & 0xff : (index * 31) & 0xff;
  }
  return bytes;
}

function outputOf(protocol: Protocol): Buffer {
  return Buffer.concat(protocol.dataToSend().filter((data): data is Buffer => data !== SEND_EOF));
}

function errorOf(events: readonly ProtocolEvent[]): ProtocolError | undefined {
  const failed = events.find((event) => event.type === 'error');
  return failed?.type === 'error' ? failed.error : undefined;
}

/** Negotiates as the handshake would, then builds a server and a client protocol. */
function negotiatedPair(
  serverOptions: PerMessageDeflateServerOptions,
  clientOptions: PerMessageDeflateClientOptions,
  protocolOptions: { maxMessageSize?: number; receiveMode?: ReceiveMode } = {},
) {
  const offers = parseExtensionOffers(offerPerMessageDeflate(clientOptions));
  const accepted = acceptPerMessageDeflate(offers, serverOptions);
  if (accepted === undefined) throw new Error('declined');
  const clientExtension = acceptPerMessageDeflateResponse(parseExtensionOffers(accepted.response)[0]!, clientOptions);
  const server = new ServerProtocol({ ...protocolOptions, extensions: [accepted.extension] });
  const client = new ClientProtocol({ ...protocolOptions, extensions: [clientExtension], maskKeySource: fixedMask });
  return { server, client, serverExtension: accepted.extension, clientExtension };
}

interface Sent {
  data: Buffer;
  isBinary: boolean;
  fragments: number;
}

function send(protocol: Protocol, message: Sent): void {
  const { data, isBinary, fragments } = message;
  if (fragments === 1) {
    if (isBinary) protocol.sendBinary(data);
    else protocol.sendText(data);
    return;
  }
  const size = Math.ceil(data.length / fragments);
  for (let index = 0; index < fragments; index++) {
    const part = data.subarray(index * size, (index + 1) * size);
    const fin = index === fragments - 1;
    if (index > 0) protocol.sendContinuation(part, { fin });
    else if (isBinary) protocol.sendBinary(part, { fin });
    else protocol.sendText(part, { fin });
  }
}

/** Sends each message from `from` to `to` and checks it arrives intact, compressed on the wire. */
function roundTrip(from: Protocol, to: Protocol, messages: readonly Sent[], chunking: Chunking): void {
  for (const message of messages) {
    send(from, message);
    const wire = outputOf(from);
    const frames = decodeFrames(wire);
    expect(frames).toHaveLength(message.fragments);
    // RFC 7692 §6.1: RSV1 on the first frame only.
    expect(frames.map((frame) => frame.rsv)).toEqual(frames.map((_frame, index) => (index === 0 ? 0x40 : 0)));
    const { events } = feed(to, wire, chunking);
    expect(errorOf(events)).toBeUndefined();
    expect(events).toHaveLength(1);
    const received = events[0]!;
    expect(received.type).toBe('message');
    if (received.type !== 'message') return;
    expect(received.isBinary).toBe(message.isBinary);
    expect(received.data.length).toBe(message.data.length);
    expect(received.data.equals(message.data)).toBe(true);
  }
}

const CONTEXT_MODES = [
  { name: 'no context takeover either way (server default + client hint)', server: {}, client: { clientNoContextTakeover: true } },
  { name: 'server without, client with context takeover (the server default)', server: {}, client: {} },
  { name: 'server with, client without context takeover', server: { serverNoContextTakeover: false, clientNoContextTakeover: true }, client: {} },
  { name: 'context takeover both ways', server: { serverNoContextTakeover: false }, client: {} },
] as const;

const ALL_SIZES = [0, 1, 1000, 100 * 1024, 1024 * 1024];
const BYTEWISE_SIZES = [0, 1, 1000];

function messagesOf(sizes: readonly number[]): Sent[] {
  const messages: Sent[] = [];
  for (const size of sizes) {
    for (const isBinary of [false, true]) {
      const data = isBinary ? binaryOfLength(size) : textOfLength(size);
      for (const fragments of [1, 3]) {
        // Twice each, so that the second one can refer to the first with context takeover.
        messages.push({ data, isBinary, fragments }, { data, isBinary, fragments });
      }
    }
  }
  return messages;
}

describe.each(CONTEXT_MODES)('round trips through a pair of protocols: $name', (mode) => {
  const options = { threshold: 0 };
  describe.each(CHUNKINGS)('fed %s', (chunking) => {
    const messages = messagesOf(chunking === 'whole' ? ALL_SIZES : BYTEWISE_SIZES);

    it('client to server', () => {
      const { server, client } = negotiatedPair({ ...mode.server, ...options }, { ...mode.client, ...options });
      roundTrip(client, server, messages, chunking);
    });

    it('server to client', () => {
      const { server, client } = negotiatedPair({ ...mode.server, ...options }, { ...mode.client, ...options });
      roundTrip(server, client, messages, chunking);
    });
  });

  it('idle connections hold zlib memory only on the sides with context takeover', () => {
    const { server, client, serverExtension, clientExtension } = negotiatedPair(
      { ...mode.server, ...options },
      { ...mode.client, ...options },
    );
    const messages = messagesOf([1000]);
    roundTrip(client, server, messages, 'whole');
    roundTrip(server, client, messages, 'whole');
    const serverTakeover = !serverExtension.parameters.compressNoContextTakeover;
    const clientTakeover = !clientExtension.parameters.compressNoContextTakeover;
    expect(serverExtension.holdsZlibMemory).toBe(serverTakeover || clientTakeover);
    expect(clientExtension.holdsZlibMemory).toBe(serverTakeover || clientTakeover);
    serverExtension.dispose();
    clientExtension.dispose();
    expect(serverExtension.holdsZlibMemory).toBe(false);
    expect(clientExtension.holdsZlibMemory).toBe(false);
  });
});

describe('stream receive mode', () => {
  it('delivers a compressed message in pieces as its bytes arrive, inflated and UTF-8 checked', () => {
    const { server, client } = negotiatedPair({ threshold: 0 }, { threshold: 0 }, { receiveMode: ReceiveMode.Stream });
    const data = textOfLength(100 * 1024);
    send(client, { data, isBinary: false, fragments: 3 });
    const wire = outputOf(client);
    const pieces: Buffer[] = [];
    let events = 0;
    for (let offset = 0; offset < wire.length; offset += 100) {
      server.receiveData(Buffer.from(wire.subarray(offset, offset + 100)));
      for (const event of server.eventsReceived()) {
        expect(event.type).toBe('piece');
        if (event.type === 'piece') pieces.push(Buffer.from(event.data));
        events++;
      }
    }
    expect(events).toBeGreaterThan(10);
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
  });
});

describe('context takeover', () => {
  it('makes a repeated message smaller; without it each message compresses alone', () => {
    const data = binaryOfLength(5000);
    const sizes = (extension: PerMessageDeflate) => [extension.encode(data, true).length, extension.encode(data, true).length];
    const [firstWith, secondWith] = sizes(new PerMessageDeflate({ threshold: 0 }));
    const [firstWithout, secondWithout] = sizes(new PerMessageDeflate({ threshold: 0, compressNoContextTakeover: true }));
    expect(secondWith).toBeLessThan(firstWith! / 4);
    expect(secondWithout).toBe(firstWithout);
  });

  it('a fragmented message without context takeover holds an engine only while it lasts', () => {
    const sender = new PerMessageDeflate({ compressNoContextTakeover: true });
    const receiver = new PerMessageDeflate({ decompressNoContextTakeover: true });
    const data = textOfLength(3000);
    const first = sender.encode(data.subarray(0, 1000), false);
    expect(sender.holdsZlibMemory).toBe(true);
    const last = sender.encode(data.subarray(1000), true);
    expect(sender.holdsZlibMemory).toBe(false);
    const decoded = [receiver.decode(first, false, Infinity)];
    expect(receiver.holdsZlibMemory).toBe(true);
    decoded.push(receiver.decode(last, true, Infinity));
    expect(receiver.holdsZlibMemory).toBe(false);
    expect(Buffer.concat(decoded as Buffer[]).equals(data)).toBe(true);
  });
});

describe('RFC 7692 §7.2.3 examples, received by a client', () => {
  const client = (parameters = {}) =>
    new ClientProtocol({ extensions: [new PerMessageDeflate(parameters)], maskKeySource: fixedMask });
  const hello = { type: 'message', data: Buffer.from('Hello'), isBinary: false };

  describe.each(CHUNKINGS)('fed %s', (chunking) => {
    it.each([
      ['§7.2.3.1 a message compressed in one DEFLATE block', 'c1 07 f2 48 cd c9 c9 07 00'],
      ['§7.2.3.1 the same message in two fragments', '41 03 f2 48 cd 80 04 c9 c9 07 00'],
      ['§7.2.3.3 a DEFLATE block with no compression', 'c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00'],
      ['§7.2.3.4 a DEFLATE block with BFINAL set', 'c1 08 f3 48 cd c9 c9 07 00 00'],
      ['§7.2.3.5 two DEFLATE blocks in one message', 'c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00'],
    ])('%s', (_rule, bytes) => {
      expect(feed(client(), hex(bytes), chunking).events).toEqual([hello]);
    });

    it('§7.2.3.2 sharing the LZ77 sliding window: the second "Hello" refers to the first', () => {
      const { events } = feed(client(), hex('c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00'), chunking);
      expect(events).toEqual([hello, hello]);
    });

    it('a stream ended with BFINAL is followed by a new stream in the next message', () => {
      const { events } = feed(client(), hex('c1 08 f3 48 cd c9 c9 07 00 00 c1 07 f2 48 cd c9 c9 07 00'), chunking);
      expect(events).toEqual([hello, hello]);
    });

    it('an empty compressed message is the first octet of an empty stored block', () => {
      expect(feed(client(), hex('c1 01 00'), chunking).events).toEqual([
        { type: 'message', data: Buffer.alloc(0), isBinary: false },
      ]);
    });

    it('a message without RSV1 is passed through uncompressed', () => {
      expect(feed(client(), hex('81 05 48 65 6c 6c 6f'), chunking).events).toEqual([hello]);
    });
  });

  it('a server with context takeover sends exactly the §7.2.3.2 bytes', () => {
    const server = new ServerProtocol({ extensions: [new PerMessageDeflate({ threshold: 0 })] });
    server.sendText('Hello');
    server.sendText('Hello');
    expect(outputOf(server)).toEqual(hex('c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00'));
  });

  it('a server without context takeover sends the §7.2.3.1 bytes every time, and nothing below the threshold', () => {
    const server = new ServerProtocol({
      extensions: [new PerMessageDeflate({ threshold: 5, compressNoContextTakeover: true })],
    });
    server.sendText('Hello');
    server.sendText('Hello');
    server.sendText('Hi');
    expect(outputOf(server)).toEqual(hex('c1 07 f2 48 cd c9 c9 07 00 c1 07 f2 48 cd c9 c9 07 00 81 02 48 69'));
  });

  it('sends fragments each flushed, RSV1 on the first, the tail removed from the last only', () => {
    const server = new ServerProtocol({ extensions: [new PerMessageDeflate({ threshold: 0 })] });
    server.sendText('Hel', { fin: false });
    server.sendContinuation('lo', { fin: false });
    server.sendContinuation('', { fin: true });
    const wire = outputOf(server);
    expect(wire).toEqual(hex('41 09 f2 48 cd 01 00 00 00 ff ff 00 08 ca c9 07 00 00 00 ff ff 80 01 00'));
    const { events } = feed(new ClientProtocol({ extensions: [new PerMessageDeflate()], maskKeySource: fixedMask }), wire, 'whole');
    expect(events).toEqual([hello]);
  });

  it('compressMessage gives the payload a no-context-takeover extension sends, usable with sendRaw', () => {
    const serverExtension = new PerMessageDeflate({ compressNoContextTakeover: true, threshold: 0 });
    const settings = serverExtension.sharedCompressionSettings!;
    expect(settings).toEqual({ windowBits: 15, level: 1, memLevel: 8 });
    expect(new PerMessageDeflate().sharedCompressionSettings).toBeUndefined();
    const data = textOfLength(4000);
    const payload = compressMessage(data, settings);
    expect(Buffer.from(serverExtension.encode(data, true))).toEqual(payload);
    const server = new ServerProtocol({ extensions: [serverExtension] });
    server.sendRaw(encodeFrame({ opcode: Opcode.Text, rsv1: true, payload }));
    const client = new ClientProtocol({ extensions: [new PerMessageDeflate()], maskKeySource: fixedMask });
    expect(feed(client, outputOf(server), 'whole').events).toEqual([{ type: 'message', data, isBinary: false }]);
    expect(() => compressMessage(data, { ...settings, windowBits: 8 })).toThrow(RangeError);
  });

  it('never compresses with an 8-bit window, which zlib cannot honour', () => {
    const extension = new PerMessageDeflate({ compressMaxWindowBits: 8, threshold: 0 });
    expect(extension.shouldEncode(5000)).toBe(false);
    expect(extension.sharedCompressionSettings).toBeUndefined();
    expect(() => extension.encode(Buffer.from('x'), true)).toThrow(InvalidStateError);
    const server = new ServerProtocol({ extensions: [extension] });
    server.sendText('Hello');
    expect(outputOf(server)).toEqual(hex('81 05 48 65 6c 6c 6f'));
  });

  it('inflates the data of a peer limited to 8 bits with a 9-bit window', () => {
    const sender = new PerMessageDeflate({ compressMaxWindowBits: 9, threshold: 0 });
    const receiver = new PerMessageDeflate({ decompressMaxWindowBits: 8 });
    for (const data of [binaryOfLength(700), binaryOfLength(700)]) {
      expect(Buffer.from(receiver.decode(sender.encode(data, true), true, Infinity) as Buffer).equals(data)).toBe(true);
    }
  });

  it('rejects parameters out of range', () => {
    expect(() => new PerMessageDeflate({ compressMaxWindowBits: 16 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ decompressMaxWindowBits: 7 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ level: 10 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ memLevel: 0 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ threshold: -1 })).toThrow(RangeError);
  });
});

describe('hostile compressed input', () => {
  const server = (options: { maxMessageSize?: number; receiveMode?: ReceiveMode } = {}) =>
    new ServerProtocol({ ...options, extensions: [new PerMessageDeflate()] });

  function expectFailure(protocol: Protocol, bytes: Buffer, chunking: Chunking, code: string, closeCode: number) {
    const { events, output } = feed(protocol, bytes, chunking);
    const error = errorOf(events);
    expect(error?.code).toBe(code);
    expect(error?.closeCode).toBe(closeCode);
    expect(closeCodeIn(output)).toBe(closeCode);
  }

  describe.each(CHUNKINGS)('fed %s', (chunking) => {
    it('a corrupted stream fails with 1007', () => {
      expectFailure(server(), maskedFrame(0xc1, hex('ff ff ff ff')), chunking, 'WS_ERR_INVALID_COMPRESSED_DATA', 1007);
    });

    it('a reference before the start of the window fails with 1007', () => {
      // A fixed-Huffman block whose first symbol is a match at distance 1: nothing to copy from.
      expectFailure(server(), maskedFrame(0xc1, hex('02 02 00')), chunking, 'WS_ERR_INVALID_COMPRESSED_DATA', 1007);
    });

    it('RSV1 on a control frame fails with 1002 (RFC 7692 §6.1)', () => {
      expectFailure(server(), maskedFrame(0xc9, 'hi'), chunking, 'WS_ERR_UNEXPECTED_RSV', 1002);
    });

    it('RSV1 on a continuation frame fails with 1002 (RFC 7692 §6.1)', () => {
      const bytes = Buffer.concat([maskedFrame(0x41, hex('f2 48 cd')), maskedFrame(0xc0, hex('c9 c9 07 00'))]);
      expectFailure(server(), bytes, chunking, 'WS_ERR_UNEXPECTED_RSV', 1002);
    });

    it('RSV2 fails with 1002: permessage-deflate defines RSV1 only', () => {
      expectFailure(server(), maskedFrame(0xe1, hex('f2 48 cd c9 c9 07 00')), chunking, 'WS_ERR_UNEXPECTED_RSV', 1002);
    });

    it('a message inflating past maxMessageSize fails with 1009', () => {
      const payload = compressMessage(Buffer.alloc(10_000), { windowBits: 15, level: 9, memLevel: 8 });
      expectFailure(server({ maxMessageSize: 9_999 }), maskedFrame(0xc1, payload), chunking, 'WS_ERR_MESSAGE_TOO_BIG', 1009);
      expect(feed(server({ maxMessageSize: 10_000 }), maskedFrame(0xc1, payload), chunking).events).toEqual([
        { type: 'message', data: Buffer.alloc(10_000), isBinary: false },
      ]);
    });
  });

  it('a fragmented message inflating past maxMessageSize fails with 1009', () => {
    const payload = compressMessage(Buffer.alloc(100_000), { windowBits: 15, level: 9, memLevel: 8 });
    const bytes = Buffer.concat([
      maskedFrame(0x42, payload.subarray(0, 40)),
      maskedFrame(0x00, payload.subarray(40, 80)),
      maskedFrame(0x80, payload.subarray(80)),
    ]);
    expectFailure(server({ maxMessageSize: 50_000 }), bytes, 'whole', 'WS_ERR_MESSAGE_TOO_BIG', 1009);
  });

  it('a 64 MiB decompression bomb fails with 1009 against a 1 MiB cap, without spending the memory', () => {
    let payload: Buffer | undefined = compressMessage(Buffer.alloc(64 << 20), { windowBits: 15, level: 9, memLevel: 8 });
    expect(payload.length).toBeLessThan(70 * 1024);
    const frame = maskedFrame(0xc2, payload);
    payload = undefined;
    const protocol = server({ maxMessageSize: 1 << 20 });
    const rssBefore = process.memoryUsage().rss;
    protocol.receiveData(frame);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    const events = protocol.eventsReceived();
    expect(errorOf(events)?.code).toBe('WS_ERR_MESSAGE_TOO_BIG');
    expect(closeCodeIn(outputOf(protocol))).toBe(1009);
    expect(rssGrowth).toBeLessThan(16 << 20);
  });

  it('a 1 GiB decompression bomb (16 copies of a 64 MiB stream) fails with 1009, in message and stream mode', () => {
    // Each copy ends with Z_SYNC_FLUSH on a byte boundary, so the copies form one valid stream.
    const segment = compressMessage(Buffer.alloc(64 << 20), { windowBits: 15, level: 9, memLevel: 8 });
    const flushed = Buffer.concat([segment, hex('00 00 ff ff')]);
    const payload = Buffer.concat([...Array.from({ length: 15 }, () => flushed), segment]);
    expect(payload.length).toBeLessThan(16 * 70 * 1024);
    for (const receiveMode of [ReceiveMode.Message, ReceiveMode.Stream]) {
      const protocol = server({ maxMessageSize: 1 << 20, receiveMode });
      const rssBefore = process.memoryUsage().rss;
      protocol.receiveData(maskedFrame(0xc2, payload));
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(16 << 20);
      expect(errorOf(protocol.eventsReceived())?.code).toBe('WS_ERR_MESSAGE_TOO_BIG');
    }
  });

  it('caps the decoded size in stream mode when the bomb arrives in small reads', () => {
    const payload = compressMessage(Buffer.alloc(64 << 20), { windowBits: 15, level: 9, memLevel: 8 });
    const frame = maskedFrame(0xc2, payload);
    const protocol = server({ maxMessageSize: 1 << 20, receiveMode: ReceiveMode.Stream });
    let delivered = 0;
    for (let offset = 0; offset < frame.length && protocol.protocolError === undefined; offset += 256) {
      protocol.receiveData(frame.subarray(offset, offset + 256));
      for (const event of protocol.eventsReceived()) if (event.type === 'piece') delivered += event.data.length;
    }
    expect(protocol.protocolError?.code).toBe('WS_ERR_MESSAGE_TOO_BIG');
    expect(delivered).toBeLessThanOrEqual(1 << 20);
  });
});
