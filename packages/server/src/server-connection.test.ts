import { ServerProtocol } from '@ws/core';
import { resolveConnectionOptions, SERVER_DEFAULTS } from '@ws/core/node';
import { describe, expect, it } from 'vitest';
import { ControlledSocket } from '../../core/test/controlled-socket.js';
import { ServerConnection } from './server-connection.js';

describe('ServerConnection', () => {
  it('knows the peer address and the data it was accepted with', () => {
    const socket = new ControlledSocket();
    const connection = new ServerConnection(socket, new ServerProtocol(), {
      data: { user: 'ada' },
      settings: resolveConnectionOptions({}, SERVER_DEFAULTS),
    });
    expect(connection.data).toEqual({ user: 'ada' });
    expect(connection.remoteAddress).toBe('192.0.2.1');
    expect(connection.remotePort).toBe(40_000);
    expect(connection.latency).toBeUndefined();
  });
});
