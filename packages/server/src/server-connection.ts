import type { Duplex } from 'node:stream';
import type { Protocol } from '@ws/core';
import { Connection, type ConnectionSetup } from '@ws/core/node';

export interface ServerConnectionSetup<Data> extends ConnectionSetup {
  /** What the `authenticate` hook accepted the connection with. */
  readonly data: Data;
}

/**
 * One accepted WebSocket connection: the engine every connection runs on
 * ({@link Connection} of `@ws/core/node`: sending, fragmentation, backpressure, flow control,
 * `messages()`, `ping()`, the closing handshake) plus what only a server has: the `data` its
 * `authenticate` hook accepted it with and the peer's address. The server's heartbeat and its
 * bookkeeping of open connections are given to the engine when the connection is made.
 */
export class ServerConnection<Data = undefined> extends Connection {
  /** What the `authenticate` hook accepted this connection with. */
  readonly data: Data;
  /** The peer's IP address, as the socket reported it when the connection was accepted. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  constructor(socket: Duplex, protocol: Protocol, setup: ServerConnectionSetup<Data>) {
    super(socket, protocol, setup);
    this.data = setup.data;
    // An HTTP/2 stream's peer is its session's socket.
    const stream = socket as Partial<{ session: { socket?: Partial<{ remoteAddress: string; remotePort: number }> } }>;
    const net = stream.session?.socket ?? (socket as Partial<{ remoteAddress: string; remotePort: number }>);
    this.remoteAddress = net.remoteAddress;
    this.remotePort = net.remotePort;
  }
}
