/** A programmer error: a bad argument, or an operation the connection's state forbids. Thrown. */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
  /** The connection state when the call was made (or the argument's name for a bad argument). */
  readonly state: string;

  constructor(message: string, state: string) {
    super(message);
    this.state = state;
  }
}
