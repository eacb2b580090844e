import { Buffer } from 'node:buffer';
import { ClientProtocol, ConnectionClosedError, Opcode, type Protocol, type ReceiveMode, ServerProtocol } from '@ws/core';
import { encodeFrame } from '@ws/core/wire';
import { describe, expect, it } from 'vitest';
import { ControlledSocket } from '../../test/controlled-socket.js';
import { describeFrames, readFrames } from '../../test/read-frames.js';
import { Connection } from './connection.js';
import { ConnectionError } from './connection-error.js';
import { type ConnectionOptions, resolveConnectionOptions, SERVER_DEFAULTS } from './connection-options.js';

const MASK = Buffer.from([1, 2, 3, 4]);

/**
 * The send path is one engine for both roles, so every test here runs as a server connection
 * (frames unmasked, the peer's masked) and as a client connection (the other way round).
 */
const roles = [
  {
    name: 'server',
    isServer: true,
    protocol: (receiveMode?: ReceiveMode): Protocol => new ServerProtocol({ receiveMode, deferCloseEcho: true }),
  },
  {
    name: 'client',
    isServer: false,
    protocol: (receiveMode?: ReceiveMode): Protocol =>
      new ClientProtocol({ receiveMode, deferCloseEcho: true, maskKeySource: () => MASK }),
  },
] as const;

describe.each(roles)('Connection as a $name', (role) => {
  /** A frame as the peer sends it: masked towards a server, unmasked towards a client. */
  function peerFrame(opcode: number, payload: string | Buffer = '', fin = true): Buffer {
    return encodeFrame({ opcode, payload, fin, maskKey: role.isServer ? MASK : undefined });
  }

  function open(options: ConnectionOptions = {}, receiveMode?: ReceiveMode) {
    const socket = new ControlledSocket(1024);
    const connection = new Connection(socket, role.protocol(receiveMode), {
      settings: resolveConnectionOptions({ fragmentSize: 1024, ...options }, SERVER_DEFAULTS),
    });
    connection.start();
    return { socket, connection, frames: () => describeFrames(readFrames(socket.bytes(), !role.isServer)) };
  }

  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  describe('outgoing fragmentation', () => {
    it('writes a long message one fragment per drain, so a ping goes out between fragments', () => {
      const { socket, connection, frames } = open();
      expect(connection.send(Buffer.alloc(4096, 1))).toBe('queued');
      expect(frames()).toEqual(['bin~1024']);
      // 1024 bytes of payload, a 4-byte header, 4 more for the mask key on the client side.
      expect(connection.bufferedAmount).toBe(1028 + (role.isServer ? 0 : 4) + 3072);
      void connection.ping({ data: 'p' });
      expect(frames()).toEqual(['bin~1024', 'ping']);
      socket.completeWrites();
      expect(frames()).toEqual(['bin~1024', 'ping', 'cont~1024']);
      socket.drainAll();
      expect(frames()).toEqual(['bin~1024', 'ping', 'cont~1024', 'cont~1024', 'cont.1024']);
      expect(connection.bufferedAmount).toBe(0);
    });

    it('reassembles to the original bytes, text split anywhere inside a character', () => {
      const { socket, connection } = open({ fragmentSize: 5 });
      const text = 'é'.repeat(8);
      connection.send(text);
      socket.drainAll();
      const wire = readFrames(socket.bytes(), !role.isServer);
      expect(wire.map((frame) => frame.opcode)).toEqual([Opcode.Text, 0, 0, 0]);
      expect(Buffer.concat(wire.map((frame) => frame.payload)).toString('utf8')).toBe(text);
    });

    it('answers a client ping between the fragments of a long message', async () => {
      const { socket, connection, frames } = open();
      connection.send(Buffer.alloc(3000));
      socket.receive(peerFrame(Opcode.Ping, 'hi'));
      await nextTurn();
      expect(frames()).toEqual(['bin~1024', 'pong']);
      socket.drainAll();
      expect(frames()).toEqual(['bin~1024', 'pong', 'cont~1024', 'cont.952']);
    });

    it('queues messages sent meanwhile behind the long one, in order, and owes one drain', () => {
      const { socket, connection, frames } = open();
      let drains = 0;
      connection.on('drain', () => drains++);
      connection.send(Buffer.alloc(2048));
      expect(connection.send('short')).toBe('queued');
      expect(connection.send(Buffer.alloc(1500))).toBe('queued');
      expect(frames()).toEqual(['bin~1024']);
      socket.drainAll();
      expect(frames()).toEqual(['bin~1024', 'cont.1024', 'text.5', 'bin~1024', 'cont.476']);
      expect(drains).toBe(1);
    });

    it('sends a short message at once when nothing is queued', () => {
      const { connection, frames } = open();
      expect(connection.send('hello')).toBe('sent');
      expect(connection.send(new Uint8Array([1, 2]))).toBe('sent');
      expect(frames()).toEqual(['text.5', 'bin.2']);
    });

    it('resolves sendAsync once the socket took everything, and rejects it after a close', async () => {
      const { socket, connection } = open();
      let resolved = false;
      const sending = connection.sendAsync(Buffer.alloc(3000)).then(() => {
        resolved = true;
      });
      await nextTurn();
      expect(resolved).toBe(false);
      socket.drainAll();
      await sending;
      expect(resolved).toBe(true);

      const pending = connection.sendAsync(Buffer.alloc(3000));
      connection.terminate('gone');
      await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
      await expect(connection.sendAsync('late')).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    it('sends the close frame after the queued data, and refuses sends once closing', () => {
      const { socket, connection, frames } = open();
      connection.send(Buffer.alloc(2048));
      connection.close(4000, 'bye');
      expect(connection.readyState).toBe(2);
      expect(connection.send('after')).toBe('closed');
      socket.drainAll();
      expect(frames()).toEqual(['bin~1024', 'cont.1024', 'close 4000']);
    });

    it('validates the close code at once even when the close frame must wait', () => {
      const { connection } = open();
      connection.send(Buffer.alloc(2048));
      expect(() => connection.close(1005)).toThrow(/1005/);
      expect(() => connection.close(1000, 'x'.repeat(124))).toThrow(/123/);
    });
  });

  describe('backpressure policy', () => {
    it('wait: keeps queueing and reports queued', () => {
      const { connection } = open({ maxBufferedAmount: 2000, onBackpressure: 'wait' });
      connection.send(Buffer.alloc(4096));
      expect(connection.send('more')).toBe('queued');
    });

    it('drop: drops messages while bufferedAmount is over the limit', () => {
      const { socket, connection } = open({ maxBufferedAmount: 2000, onBackpressure: 'drop' });
      connection.send(Buffer.alloc(4096));
      expect(connection.send('more')).toBe('dropped');
      socket.drainAll();
      expect(connection.send('again')).toBe('sent');
    });

    it('close: drops the queue, closes with 1008 and reports WS_ERR_BACKPRESSURE_LIMIT', () => {
      const { socket, connection, frames } = open({ maxBufferedAmount: 2000, onBackpressure: 'close' });
      const errors: unknown[] = [];
      connection.on('error', (error) => errors.push(error));
      connection.send(Buffer.alloc(4096));
      expect(connection.send('more')).toBe('closed');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(ConnectionError);
      expect((errors[0] as ConnectionError).code).toBe('WS_ERR_BACKPRESSURE_LIMIT');
      socket.drainAll();
      expect(frames()).toEqual(['bin~1024', 'close 1008']);
    });
  });

  describe('streams and pre-encoded frames', () => {
    it.runIf(role.isServer)('sends an async iterable as one fragmented message, holding other messages (and a broadcast) until it ends', async () => {
      const { socket, connection, frames } = open();
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      async function* source() {
        yield 'first ';
        await gate;
        yield 'second';
      }
      const streaming = connection.sendStream(source());
      await nextTurn();
      expect(connection.send('other')).toBe('queued');
      expect(connection.sendFrames([encodeFrame({ opcode: Opcode.Text, payload: 'broadcast' })])).toBe('queued');
      expect(connection.bufferedAmount).toBe(8 + 5 + 11);
      release();
      await streaming;
      socket.drainAll();
      expect(frames()).toEqual(['text~6', 'cont~6', 'cont.0', 'text.5', 'text.9']);
      expect(connection.bufferedAmount).toBe(0);
    });

    it('closes with 1011 and rethrows when the source fails mid-message', async () => {
      const { socket, connection, frames } = open();
      const errors: ConnectionError[] = [];
      connection.on('error', (error) => errors.push(error as ConnectionError));
      async function* source() {
        yield Buffer.from('part');
        throw new Error('disk gone');
      }
      await expect(connection.sendStream(source())).rejects.toThrow('disk gone');
      socket.drainAll();
      expect(frames()).toEqual(['bin~4', 'close 1011']);
      expect(errors.map((error) => error.code)).toEqual(['WS_ERR_STREAM_SOURCE_FAILED']);
    });

    it.runIf(role.isServer)('holds pre-encoded frames while a message sent with fin: false is open', () => {
      const { connection, frames } = open();
      connection.send('a', { fin: false });
      expect(connection.sendFrames([encodeFrame({ opcode: Opcode.Binary, payload: Buffer.from([9]) })])).toBe('queued');
      connection.send('b', { fin: false });
      connection.send('c');
      expect(frames()).toEqual(['text~1', 'cont~1', 'cont.1', 'bin.1']);
    });
  });

  describe('receiving', () => {
    it('iterates messages and stops reading the socket while the consumer is behind', async () => {
      const { socket, connection } = open({ receiveHighWaterMark: 1000 }, 'stream');
      const messages = connection.messageStreams();
      const payload = Buffer.alloc(5000, 7);
      socket.receive(peerFrame(Opcode.Binary, payload.subarray(0, 2500), false));
      socket.receive(peerFrame(Opcode.Continuation, payload.subarray(2500), true));
      await nextTurn();
      expect(connection.isPaused).toBe(true);
      const message = (await messages.next()).value!;
      expect(message.isBinary).toBe(true);
      const received = await message.bytes();
      expect(received.equals(payload)).toBe(true);
      expect(connection.isPaused).toBe(false);
      await messages.return();
    });

    it('keeps the application pause when the inbox no longer needs one', async () => {
      const { socket, connection } = open({ receiveHighWaterMark: 10 });
      const messages = connection.messages();
      connection.pause();
      socket.receive(peerFrame(Opcode.Text, 'x'.repeat(50)));
      await messages.return();
      expect(connection.isPaused).toBe(true);
      connection.resume();
      expect(connection.isPaused).toBe(false);
    });

    it('refuses a second iteration while one is in progress, and allows one after it', async () => {
      const { socket, connection } = open();
      const first = connection.messages();
      const pending = first.next();
      expect(() => connection.messages()).toThrow(/in progress/);
      socket.receive(peerFrame(Opcode.Text, 'one'));
      expect(await pending).toEqual({ value: 'one', done: false });
      await first.return();
      const second = connection.messages();
      const next = second.next();
      socket.receive(peerFrame(Opcode.Binary, Buffer.from([1, 2])));
      expect(await next).toEqual({ value: Buffer.from([1, 2]), done: false });
      await second.return();
    });

    it('checks the ping timeout it is given', () => {
      const { connection } = open();
      expect(() => connection.ping({ timeout: -1 })).toThrow(RangeError);
      expect(() => connection.ping({ timeout: 'soon' as never })).toThrow(/"timeout"/);
    });

    it('reports 1006 and the reason given to terminate', async () => {
      const { connection } = open();
      const closed = new Promise<unknown[]>((resolve) => connection.on('close', (...args) => resolve(args)));
      connection.terminate('bye');
      expect(await closed).toEqual([1006, 'bye', false]);
    });

  });
});
