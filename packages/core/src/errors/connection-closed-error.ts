/** What a send or receive reports once the connection is closed. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  readonly closeCode: number;
  readonly reason: string;
  readonly wasClean: boolean;

  constructor(closeCode: number, reason: string, wasClean: boolean) {
    super(`WebSocket connection closed (${closeCode}${reason ? `: ${reason}` : ''})`);
    this.closeCode = closeCode;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}
