/** Connection states, numbered as the WHATWG `WebSocket.readyState` numbers them. */
export const ConnectionState = {
  Connecting: 0,
  Open: 1,
  Closing: 2,
  Closed: 3,
} as const;

export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Which end of the connection a protocol plays: it decides the masking direction. */
export const Side = {
  Server: 'server',
  Client: 'client',
} as const;

export type Side = (typeof Side)[keyof typeof Side];
