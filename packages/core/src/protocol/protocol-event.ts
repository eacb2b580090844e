import type { Buffer } from 'node:buffer';
import type { ProtocolError } from '../errors/protocol-error.js';

/** A whole data message (receive mode `message`). */
export interface MessageReceived {
  readonly type: 'message';
  /** The payload; for a message that arrived within one chunk, a view into that chunk. */
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/**
 * A piece of a data message as it arrives (receive mode `stream`): payload bytes are handed
 * on without being assembled, so a message of any size needs no more memory than a chunk.
 */
export interface MessagePieceReceived {
  readonly type: 'piece';
  readonly data: Buffer;
  readonly isBinary: boolean;
  /** True on the first piece of a message. */
  readonly messageStart: boolean;
  /** True on the last piece of a frame: the frame's bytes are all delivered. */
  readonly frameEnd: boolean;
  /** True on the last piece of the message. */
  readonly messageEnd: boolean;
}

export interface PingReceived {
  readonly type: 'ping';
  readonly data: Buffer;
}

export interface PongReceived {
  readonly type: 'pong';
  readonly data: Buffer;
}

/** The peer's close frame arrived (the connection is now closing). */
export interface CloseReceived {
  readonly type: 'close';
  /** The peer's status code; 1005 when its close frame had none. */
  readonly code: number;
  readonly reason: string;
}

/** The peer broke the protocol; the connection has been failed with `error.closeCode`. */
export interface ProtocolFailed {
  readonly type: 'error';
  readonly error: ProtocolError;
}

export type ProtocolEvent =
  | MessageReceived
  | MessagePieceReceived
  | PingReceived
  | PongReceived
  | CloseReceived
  | ProtocolFailed;
