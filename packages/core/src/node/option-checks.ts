/**
 * Option checks shared by every package, so that a bad option is reported the same way
 * everywhere: a `TypeError` for a value of the wrong type, a `RangeError` for a number out of
 * range, each naming the option (as Node's own `ERR_INVALID_ARG_TYPE`/`ERR_OUT_OF_RANGE` do).
 */

/** A positive number of bytes or milliseconds (Infinity allowed where `allowInfinity`); `fallback` when undefined. */
export function positiveOption(value: unknown, fallback: number, name: string, allowInfinity = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    throw new TypeError(`The "${name}" option must be a number; received ${describe(value)}`);
  }
  if (!(value > 0) || (!allowInfinity && !Number.isFinite(value))) {
    throw new RangeError(`The "${name}" option must be a positive${allowInfinity ? '' : ' finite'} number; received ${value}`);
  }
  return value;
}

/** One of a fixed set of string values; `fallback` when undefined. */
export function oneOfOption<Value extends string>(
  value: unknown,
  allowed: readonly Value[],
  fallback: Value,
  name: string,
): Value {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`The "${name}" option must be one of ${allowed.map((item) => `'${item}'`).join(', ')}; received ${describe(value)}`);
  }
  return value as Value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  return typeof value === 'object' || typeof value === 'function' ? `an instance of ${value.constructor?.name ?? 'Object'}` : `${typeof value} ${String(value)}`;
}
