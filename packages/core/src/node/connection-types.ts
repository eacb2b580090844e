import type { Buffer } from 'node:buffer';
import type { MessagePieceReceived } from '@ws/core';
import type { ResolvedConnectionOptions } from './connection-options.js';
import type { Heartbeat } from './heartbeat.js';

export interface PingOptions {
  /** The ping's application data (at most 125 bytes). Default: a 4-byte sequence number. */
  readonly data?: Buffer | Uint8Array | string;
  /** Reject with `PingTimeoutError` when no pong comes within this many ms. Default: wait until close. */
  readonly timeout?: number;
}

/** How a connection ended. `code` is 1005 when the peer's close frame had none, 1006 when none came. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** The events of a connection, for typed `on`/`once`. */
export interface ConnectionEvents {
  /** A whole message (receive mode `message`); `data` is a Buffer for text too (`toString()` decodes it). */
  message: [data: Buffer, isBinary: boolean];
  /** A piece of a message as it arrives (receive mode `stream`). */
  piece: [piece: MessagePieceReceived];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** The transport is gone. `code` is the peer's close code, 1005 when it gave none, 1006 when no close frame came. */
  close: [code: number, reason: string, wasClean: boolean];
  /**
   * The connection failed: the peer broke the protocol (a `ProtocolError`) or the engine gave it
   * up (a `ConnectionError`). Emitted at the moment of failure, only when a listener is attached:
   * a hostile peer never crashes the process.
   */
  error: [error: Error];
  /** Everything queued was written and the transport is not backed up. */
  drain: [];
}

/** What the role adds when it creates a connection. */
export interface ConnectionSetup {
  /** The checked options; a server shares one object among all its connections. */
  readonly settings: ResolvedConnectionOptions;
  /** The subprotocol and extensions the handshake agreed on, for the application to read. */
  readonly protocol?: string;
  readonly extensions?: string;
  /** Bytes that arrived with the handshake; fed to the protocol before the first transport `'data'`. */
  readonly head?: Buffer;
  /** A heartbeat to join while the connection is open (a server shares one among all its connections). */
  readonly heartbeat?: Heartbeat | undefined;
  /** Called after the connection closed, before the application's `close` listeners (the role's bookkeeping). */
  readonly onClosed?: ((connection: never) => void) | undefined;
}
