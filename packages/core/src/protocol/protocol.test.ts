import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  ClientProtocol,
  CloseCode,
  ConnectionState,
  InvalidStateError,
  type ProtocolErrorCode,
  type ProtocolEvent,
  type ProtocolOptions,
  ServerProtocol,
} from '@ws/core';
import { CHUNKINGS, closeCodeIn, decodeFrames, feed, hex, maskedFrame } from '../../test/wire.js';

const fixedMask = () => hex('37 fa 21 3d');
const client = (options: ProtocolOptions = {}) => new ClientProtocol({ ...options, maskKeySource: fixedMask });
const server = (options: ProtocolOptions = {}) => new ServerProtocol(options);

function errorOf(events: ProtocolEvent[]) {
  const failed = events.find((event) => event.type === 'error');
  return failed?.type === 'error' ? failed.error : undefined;
}

describe.each(CHUNKINGS)('RFC 6455 §5.7 examples, fed %s', (chunking) => {
  it('a single-frame unmasked text message reaches a client', () => {
    const { events } = feed(client(), hex('81 05 48 65 6c 6c 6f'), chunking);
    expect(events).toEqual([{ type: 'message', data: Buffer.from('Hello'), isBinary: false }]);
  });

  it('a single-frame masked text message reaches a server', () => {
    const { events } = feed(server(), hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), chunking);
    expect(events).toEqual([{ type: 'message', data: Buffer.from('Hello'), isBinary: false }]);
  });

  it('a fragmented unmasked text message is assembled', () => {
    const { events } = feed(client(), hex('01 03 48 65 6c 80 02 6c 6f'), chunking);
    expect(events).toEqual([{ type: 'message', data: Buffer.from('Hello'), isBinary: false }]);
  });

  it('an unmasked ping is answered by a masked pong with the same data', () => {
    const protocol = client();
    const { events, output } = feed(protocol, hex('89 05 48 65 6c 6c 6f'), chunking);
    expect(events).toEqual([{ type: 'ping', data: Buffer.from('Hello') }]);
    // §5.7: "Unmasked Ping request and masked Ping response": 0x8a 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58
    expect(output).toEqual(hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'));
  });

  it('256 bytes binary in a single unmasked frame (16-bit length)', () => {
    const payload = Buffer.alloc(256, 7);
    const { events } = feed(client(), Buffer.concat([hex('82 7e 01 00'), payload]), chunking);
    expect(events).toEqual([{ type: 'message', data: payload, isBinary: true }]);
  });

  it('64 KiB binary in a single unmasked frame (64-bit length)', () => {
    const payload = Buffer.alloc(65536, 9);
    const bytes = Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), payload]);
    // Byte by byte over 64 KiB is slow but still quick enough; it proves 64-bit lengths resume.
    const { events } = feed(client(), bytes, chunking);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'message', isBinary: true });
    expect((events[0] as { data: Buffer }).data.equals(payload)).toBe(true);
  });
});

interface Violation {
  rule: string;
  bytes: Buffer;
  code: ProtocolErrorCode;
  closeCode: number;
  side?: 'server' | 'client';
  options?: ProtocolOptions;
}

// One vector per rule of RFC 6455 §5-8 that a received frame can break, each failing the
// connection (and the limits).
const violations: Violation[] = [
  { rule: '§5.1 a server receives an unmasked frame', bytes: hex('81 02 68 69'), code: 'WS_ERR_UNMASKED_FRAME', closeCode: 1002 },
  { rule: '§5.1 a client receives a masked frame', side: 'client', bytes: hex('81 82 00 00 00 00 68 69'), code: 'WS_ERR_UNEXPECTED_MASK', closeCode: 1002 },
  { rule: '§5.2 RSV1 without a negotiated extension', bytes: maskedFrame(0xc1, 'hi'), code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002 },
  { rule: '§5.2 RSV2 without a negotiated extension', bytes: maskedFrame(0xa1, 'hi'), code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002 },
  { rule: '§5.2 RSV3 without a negotiated extension', bytes: maskedFrame(0x91, 'hi'), code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002 },
  { rule: '§5.2 RSV bits on a ping', bytes: maskedFrame(0xc9), code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002 },
  { rule: '§5.2 reserved data opcode 0x3', bytes: maskedFrame(0x83), code: 'WS_ERR_INVALID_OPCODE', closeCode: 1002 },
  { rule: '§5.2 reserved data opcode 0x7', bytes: maskedFrame(0x87), code: 'WS_ERR_INVALID_OPCODE', closeCode: 1002 },
  { rule: '§5.2 reserved control opcode 0xB', bytes: maskedFrame(0x8b), code: 'WS_ERR_INVALID_OPCODE', closeCode: 1002 },
  { rule: '§5.2 reserved control opcode 0xF', bytes: maskedFrame(0x8f), code: 'WS_ERR_INVALID_OPCODE', closeCode: 1002 },
  { rule: '§5.2 64-bit length with its most significant bit set', bytes: hex('82 ff 80 00 00 00 00 00 00 00 37 fa 21 3d'), code: 'WS_ERR_INVALID_LENGTH', closeCode: 1002 },
  { rule: 'a length beyond 2^53 never reaches arithmetic', bytes: hex('82 ff 00 20 00 00 00 00 00 00 37 fa 21 3d'), code: 'WS_ERR_FRAME_TOO_BIG', closeCode: 1009 },
  { rule: '§5.5 control frame payload over 125 bytes', bytes: maskedFrame(0x89, Buffer.alloc(126)), code: 'WS_ERR_CONTROL_FRAME_TOO_LONG', closeCode: 1002 },
  { rule: '§5.5 fragmented control frame', bytes: maskedFrame(0x09, 'hi'), code: 'WS_ERR_FRAGMENTED_CONTROL_FRAME', closeCode: 1002 },
  { rule: '§5.4 continuation without a message', bytes: maskedFrame(0x80, 'hi'), code: 'WS_ERR_UNEXPECTED_CONTINUATION', closeCode: 1002 },
  { rule: '§5.4 new data frame inside a fragmented message', bytes: Buffer.concat([maskedFrame(0x01, 'a'), maskedFrame(0x81, 'b')]), code: 'WS_ERR_EXPECTED_CONTINUATION', closeCode: 1002 },
  { rule: '§5.2 RSV1 on a continuation frame', bytes: Buffer.concat([maskedFrame(0x01, 'a'), maskedFrame(0xc0, 'b')]), code: 'WS_ERR_UNEXPECTED_RSV', closeCode: 1002 },
  { rule: '§8.1 invalid UTF-8 in a text frame', bytes: maskedFrame(0x81, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64')), code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 },
  { rule: '§8.1 a code point truncated at message end', bytes: maskedFrame(0x81, hex('ce')), code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 },
  { rule: '§8.1 invalid UTF-8 split across fragments', bytes: Buffer.concat([maskedFrame(0x01, hex('ce ba e1')), maskedFrame(0x00, hex('bd')), maskedFrame(0x80, hex('ff'))]), code: 'WS_ERR_INVALID_UTF8', closeCode: 1007 },
  { rule: '§5.5.1 close payload of one byte', bytes: maskedFrame(0x88, hex('03')), code: 'WS_ERR_INVALID_CLOSE_PAYLOAD', closeCode: 1002 },
  { rule: '§7.4.2 close code 999', bytes: maskedFrame(0x88, hex('03 e7')), code: 'WS_ERR_INVALID_CLOSE_CODE', closeCode: 1002 },
  { rule: '§7.4.1 reserved close code 1005 on the wire', bytes: maskedFrame(0x88, hex('03 ed')), code: 'WS_ERR_INVALID_CLOSE_CODE', closeCode: 1002 },
  { rule: '§7.4.1 reserved close code 1006 on the wire', bytes: maskedFrame(0x88, hex('03 ee')), code: 'WS_ERR_INVALID_CLOSE_CODE', closeCode: 1002 },
  { rule: '§7.4.2 close code 5000', bytes: maskedFrame(0x88, hex('13 88')), code: 'WS_ERR_INVALID_CLOSE_CODE', closeCode: 1002 },
  { rule: '§5.5.1 close reason not UTF-8', bytes: maskedFrame(0x88, hex('03 e8 ff fe')), code: 'WS_ERR_INVALID_CLOSE_REASON', closeCode: 1007 },
  { rule: 'maxFrameSize, checked from the header', bytes: hex('82 8b 37 fa 21 3d'), code: 'WS_ERR_FRAME_TOO_BIG', closeCode: 1009, options: { maxFrameSize: 10 } },
  { rule: 'maxMessageSize, counted over fragments', bytes: Buffer.concat([maskedFrame(0x02, Buffer.alloc(6)), maskedFrame(0x80, Buffer.alloc(6))]), code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009, options: { maxMessageSize: 2 * (6 + 180) - 1 } },
];

describe.each(CHUNKINGS)('every MUST-fail rule, fed %s', (chunking) => {
  it.each(violations)('$rule → $closeCode ($code)', ({ bytes, code, closeCode, side, options }) => {
    const protocol = side === 'client' ? client(options) : server(options);
    const { events, output, eof } = feed(protocol, bytes, chunking);
    const error = errorOf(events);
    expect(error?.code).toBe(code);
    expect(error?.closeCode).toBe(closeCode);
    expect(protocol.protocolError).toBe(error);
    expect(closeCodeIn(output)).toBe(closeCode);
    expect(events.filter((event) => event.type === 'message')).toEqual([]);
    // RFC 6455 §7.1.1: the server closes the TCP connection first; a client waits for it.
    expect(eof).toBe(side !== 'client');
    expect(protocol.closeExpected()).toBe(true);
    expect(protocol.state).toBe(ConnectionState.Closing);
  });
});

describe('failing fast', () => {
  it('fails on invalid UTF-8 before the frame carrying it has fully arrived', () => {
    const protocol = server();
    const frame = maskedFrame(0x81, Buffer.concat([Buffer.from('valid text '), hex('ff'), Buffer.alloc(100, 0x61)]));
    // Feed only up to and including the invalid byte: the header is 2 + 4 (key) + 11 valid bytes.
    const { events } = feed(protocol, frame.subarray(0, 6 + 11 + 1), 'whole');
    expect(errorOf(events)?.closeCode).toBe(1007);
  });

  it('fails on a frame over maxFrameSize from its header alone, with no payload sent', () => {
    const protocol = server({ maxFrameSize: 1024 });
    const { events } = feed(protocol, hex('82 fe 10 00 37 fa 21 3d'), 'whole');
    expect(errorOf(events)?.code).toBe('WS_ERR_FRAME_TOO_BIG');
  });

  it('ignores everything after a violation', () => {
    const protocol = server();
    const bytes = Buffer.concat([maskedFrame(0x83), maskedFrame(0x81, 'after')]);
    const { events } = feed(protocol, bytes, 'whole');
    expect(events.map((event) => event.type)).toEqual(['error']);
  });
});

describe('fragment floods are bounded by memory accounting', () => {
  it('accepts a 4 MiB message sent as 65,536 fragments of 64 bytes with the default limits', () => {
    const protocol = server();
    const fragment = Buffer.alloc(64, 0x61);
    const frames = [maskedFrame(0x02, fragment)];
    for (let index = 1; index < 65535; index++) frames.push(maskedFrame(0x00, fragment));
    frames.push(maskedFrame(0x80, fragment));
    protocol.receiveData(Buffer.concat(frames));
    const events = protocol.eventsReceived();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'message', isBinary: true });
    expect((events[0] as { data: Buffer }).data.length).toBe(4 * 1024 * 1024);
  });

  it('fails an endless stream of empty fragments with 1009 before memory grows', () => {
    const protocol = server();
    const empty = maskedFrame(0x00);
    protocol.receiveData(maskedFrame(0x02));
    const batch = Buffer.concat(Array.from({ length: 10_000 }, () => empty));
    let sent = 1;
    while (protocol.protocolError === undefined && sent < 1_000_000) {
      protocol.receiveData(batch);
      sent += 10_000;
    }
    expect(protocol.protocolError?.code).toBe('WS_ERR_MESSAGE_TOO_BIG');
    expect(closeCodeIn(Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer)))).toBe(1009);
    // 16 MiB / 180 bytes per fragment: the flood is stopped after about 93,000 empty fragments.
    expect(sent).toBeLessThanOrEqual(100_001);
  });
});

describe('ping floods', () => {
  it('answers pings while the output drains', () => {
    const protocol = server({ maxPendingPongs: 4 });
    for (let index = 0; index < 20; index++) {
      protocol.receiveData(maskedFrame(0x89, 'p'));
      protocol.dataToSend();
      protocol.outputDrained();
    }
    expect(protocol.protocolError).toBeUndefined();
  });

  it('fails with 1008 when pongs pile up while the peer does not read', () => {
    const protocol = server({ maxPendingPongs: 4 });
    for (let index = 0; index < 5; index++) protocol.receiveData(maskedFrame(0x89, 'p'));
    expect(protocol.protocolError?.code).toBe('WS_ERR_PING_FLOOD');
    expect(protocol.protocolError?.closeCode).toBe(1008);
  });
});

describe('closing handshake', () => {
  it('a server echoes the peer close code and reason, then half-closes first', () => {
    const protocol = server();
    const { events, output, eof } = feed(protocol, maskedFrame(0x88, hex('0f a0 62 79 65')), 'whole');
    expect(events).toEqual([{ type: 'close', code: 4000, reason: 'bye' }]);
    expect(output).toEqual(hex('88 05 0f a0 62 79 65'));
    expect(eof).toBe(true);
    protocol.receiveEof();
    expect(protocol.state).toBe(ConnectionState.Closed);
    expect(protocol.wasClean).toBe(true);
    expect(protocol.closeCode).toBe(4000);
  });

  it('a close frame without a code is answered with an empty one and reported as 1005', () => {
    const protocol = server();
    const { events, output } = feed(protocol, maskedFrame(0x88), 'whole');
    expect(events).toEqual([{ type: 'close', code: CloseCode.NoStatusReceived, reason: '' }]);
    expect(output).toEqual(hex('88 00'));
  });

  it('a client that starts the close waits for the server to close TCP', () => {
    const protocol = client();
    protocol.sendClose(1000, 'done');
    const frames = decodeFrames(Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer)));
    expect(frames).toMatchObject([{ opcode: 8, masked: true, payload: hex('03 e8 64 6f 6e 65') }]);
    expect(protocol.closeExpected()).toBe(true);
    const { eof } = feed(protocol, hex('88 02 03 e8'), 'whole');
    expect(eof).toBe(false);
    expect(protocol.state).toBe(ConnectionState.Closing);
    protocol.receiveEof();
    expect(protocol.dataToSend()).toHaveLength(1);
    expect(protocol.state).toBe(ConnectionState.Closed);
    expect(protocol.wasClean).toBe(true);
    expect(protocol.closeCode).toBe(1000);
  });

  it('reports 1006 when the transport ends without a close frame', () => {
    const protocol = server();
    feed(protocol, maskedFrame(0x01, 'partial'), 'whole');
    protocol.receiveEof();
    expect(protocol.state).toBe(ConnectionState.Closed);
    expect(protocol.closeCode).toBe(1006);
    expect(protocol.wasClean).toBe(false);
  });

  it('sends no data frame after its close frame', () => {
    const protocol = server();
    protocol.sendClose(1001);
    expect(() => protocol.sendText('late')).toThrow(InvalidStateError);
    expect(() => protocol.sendClose(1000)).toThrow(InvalidStateError);
  });

  it('answers no ping after its close frame, but reports it', () => {
    const protocol = server();
    protocol.sendClose(1000);
    protocol.dataToSend();
    const { events, output } = feed(protocol, maskedFrame(0x89, 'late'), 'whole');
    expect(events).toEqual([{ type: 'ping', data: Buffer.from('late') }]);
    expect(output.length).toBe(0);
  });

  it('interleaves control frames inside a fragmented message', () => {
    const protocol = server();
    const bytes = Buffer.concat([maskedFrame(0x01, 'Hel'), maskedFrame(0x89, 'x'), maskedFrame(0x80, 'lo')]);
    for (const chunking of CHUNKINGS) {
      const { events } = feed(server(), bytes, chunking);
      expect(events).toEqual([
        { type: 'ping', data: Buffer.from('x') },
        { type: 'message', data: Buffer.from('Hello'), isBinary: false },
      ]);
    }
    expect(protocol.protocolError).toBeUndefined();
  });
});

describe('sending', () => {
  it('frames server messages unmasked with the minimal length form', () => {
    const protocol = server();
    protocol.sendText('Hello');
    protocol.sendBinary(Buffer.alloc(126));
    protocol.sendBinary(Buffer.alloc(65536));
    const output = Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer));
    expect(output.subarray(0, 7)).toEqual(hex('81 05 48 65 6c 6c 6f'));
    expect(output.subarray(7, 11)).toEqual(hex('82 7e 00 7e'));
    expect(output.subarray(7 + 4 + 126, 7 + 4 + 126 + 10)).toEqual(hex('82 7f 00 00 00 00 00 01 00 00'));
  });

  it('masks client frames without touching the caller buffer', () => {
    const protocol = client();
    const payload = Buffer.from('Hello');
    protocol.sendText(payload);
    expect(payload.toString()).toBe('Hello');
    expect(Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer))).toEqual(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
    const large = Buffer.alloc(100_000, 0x41);
    protocol.sendBinary(large);
    expect(large.every((byte) => byte === 0x41)).toBe(true);
    const [frame] = decodeFrames(Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer)));
    expect(frame?.payload.equals(large)).toBe(true);
  });

  it('sends a fragmented message and refuses to interleave another', () => {
    const protocol = server();
    protocol.sendText('Hel', { fin: false });
    expect(() => protocol.sendText('x')).toThrow(InvalidStateError);
    protocol.sendPing('p');
    protocol.sendContinuation('lo', { fin: true });
    expect(() => protocol.sendContinuation('x')).toThrow(InvalidStateError);
    const frames = decodeFrames(Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer)));
    expect(frames.map((frame) => [frame.fin, frame.opcode, frame.payload.toString()])).toEqual([
      [false, 1, 'Hel'],
      [true, 9, 'p'],
      [true, 0, 'lo'],
    ]);
  });

  it('validates close codes and reasons it sends', () => {
    expect(() => server().sendClose(1005)).toThrow(RangeError);
    expect(() => server().sendClose(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(() => server().sendPing(Buffer.alloc(126))).toThrow(RangeError);
  });
});

describe('receive mode stream', () => {
  it('hands out pieces of a large frame as they arrive, never assembled', () => {
    const protocol = server({ receiveMode: 'stream' });
    const frame = maskedFrame(0x82, Buffer.alloc(1000, 1));
    protocol.receiveData(frame.subarray(0, 400));
    protocol.receiveData(frame.subarray(400));
    const events = protocol.eventsReceived();
    expect(events.map((event) => event.type === 'piece' && [event.data.length, event.messageStart, event.frameEnd, event.messageEnd])).toEqual([
      [400 - 8, true, false, false],
      [1000 - 392, false, true, true],
    ]);
  });
});

describe('a deferred close echo', () => {
  it('lets the application answer a message that arrived with the close frame, then echoes', () => {
    const protocol = server({ deferCloseEcho: true });
    const { events, output } = feed(protocol, Buffer.concat([maskedFrame(0x81, 'last'), maskedFrame(0x88, hex('03 e8'))]), 'whole');
    expect(events.map((event) => event.type)).toEqual(['message', 'close']);
    expect(output.length).toBe(0);
    expect(protocol.closeEchoPending).toBe(true);
    protocol.sendText('reply');
    protocol.sendCloseEcho();
    const frames = decodeFrames(Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer)));
    expect(frames.map((frame) => [frame.opcode, frame.payload.toString('hex')])).toEqual([
      [1, Buffer.from('reply').toString('hex')],
      [8, '03e8'],
    ]);
    expect(protocol.closeExpected()).toBe(true);
  });

  it('is replaced by a close the application sends itself', () => {
    const protocol = server({ deferCloseEcho: true });
    feed(protocol, maskedFrame(0x88, hex('03 e8')), 'whole');
    protocol.sendClose(4000, 'mine');
    protocol.sendCloseEcho();
    expect(closeCodeIn(Buffer.concat(protocol.dataToSend().filter(Buffer.isBuffer)))).toBe(4000);
  });
});

describe('a failure after whole messages, with deferCloseEcho', () => {
  // A valid text message "Hello", then a frame with the reserved opcode 0x3, in one chunk.
  const messageThenReservedOpcode = () => Buffer.concat([maskedFrame(0x81, 'Hello'), maskedFrame(0x83)]);

  function framesOf(protocol: ReturnType<typeof server>) {
    const output = protocol.dataToSend();
    const bytes = Buffer.concat(output.filter(Buffer.isBuffer));
    return { frames: decodeFrames(bytes).map((frame) => [frame.opcode, frame.payload.toString('hex')]), eof: output.length > 0 && !Buffer.isBuffer(output.at(-1)) };
  }

  it('holds the failing close frame until the application could answer the messages before the violation', () => {
    const protocol = server({ deferCloseEcho: true });
    const { events, output } = feed(protocol, messageThenReservedOpcode(), 'whole');
    expect(events.map((event) => event.type)).toEqual(['message', 'error']);
    expect(errorOf(events)?.closeCode).toBe(CloseCode.ProtocolError);
    expect(output.length).toBe(0);
    expect(protocol.closeEchoPending).toBe(true);
    expect(protocol.closeExpected()).toBe(false);
    protocol.sendText('Hello');
    protocol.sendCloseEcho();
    // RFC 6455 §5.2: an unknown opcode fails the connection with 1002; the echo goes first.
    expect(framesOf(protocol)).toEqual({
      frames: [
        [1, Buffer.from('Hello').toString('hex')],
        [8, '03ea'],
      ],
      eof: true,
    });
    expect(protocol.closeExpected()).toBe(true);
    expect(protocol.wasClean).toBe(false);
    expect(() => protocol.sendText('late')).toThrow(InvalidStateError);
  });

  it('does not hold it when the messages were handed out before the violation arrived', () => {
    const protocol = server({ deferCloseEcho: true });
    const { events, output, eof } = feed(protocol, messageThenReservedOpcode(), 'bytewise');
    expect(events.map((event) => event.type)).toEqual(['message', 'error']);
    expect(protocol.closeEchoPending).toBe(false);
    expect(closeCodeIn(output)).toBe(CloseCode.ProtocolError);
    expect(eof).toBe(true);
  });

  it('does not hold it when no message came before the violation', () => {
    const protocol = server({ deferCloseEcho: true });
    const { output, eof } = feed(protocol, Buffer.concat([maskedFrame(0x89), maskedFrame(0x83)]), 'whole');
    expect(protocol.closeEchoPending).toBe(false);
    expect(closeCodeIn(output)).toBe(CloseCode.ProtocolError);
    expect(eof).toBe(true);
  });

  it('does not hold it without the option', () => {
    const protocol = server();
    const { events, output, eof } = feed(protocol, messageThenReservedOpcode(), 'whole');
    expect(events.map((event) => event.type)).toEqual(['message', 'error']);
    expect(closeCodeIn(output)).toBe(CloseCode.ProtocolError);
    expect(eof).toBe(true);
    expect(() => protocol.sendText('Hello')).toThrow(InvalidStateError);
  });

  it('counts the last piece of a message in receive mode stream', () => {
    const protocol = server({ deferCloseEcho: true, receiveMode: 'stream' });
    const { events, output } = feed(protocol, messageThenReservedOpcode(), 'whole');
    expect(events.map((event) => event.type)).toEqual(['piece', 'error']);
    expect(output.length).toBe(0);
    expect(protocol.closeEchoPending).toBe(true);
  });

  it("sends the failure's code when the application closes while the frame is held", () => {
    const protocol = server({ deferCloseEcho: true });
    feed(protocol, messageThenReservedOpcode(), 'whole');
    protocol.sendClose(4000, 'mine');
    expect(protocol.closeEchoPending).toBe(false);
    expect(framesOf(protocol)).toEqual({ frames: [[8, '03ea']], eof: true });
    protocol.sendCloseEcho();
    expect(protocol.dataToSend()).toEqual([]);
  });
});
