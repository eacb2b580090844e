/** No pong answered a ping within the time allowed. */
export class PingTimeoutError extends Error {
  override readonly name = 'PingTimeoutError';
  /** The time waited, in ms. */
  readonly timeout: number;

  constructor(timeout: number) {
    super(`No pong within ${timeout} ms`);
    this.timeout = timeout;
  }
}
