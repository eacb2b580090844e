import { Buffer } from 'node:buffer';
import { types } from 'node:util';

/**
 * The WebIDL conversions (https://webidl.spec.whatwg.org/#es-type-mapping) the WHATWG classes
 * apply to their arguments, so that they accept and reject values as browsers and undici do.
 * Errors name the operation and argument, like undici's ("WebSocket constructor: ...").
 */

/** "If args's size is less than the number of required arguments, throw a TypeError." */
export function requireArguments(given: number, required: number, context: string): void {
  if (given < required) {
    throw new TypeError(`${context}: ${required} argument${required === 1 ? '' : 's'} required, but only ${given} present.`);
  }
}

/** An object in the ECMAScript sense (what a dictionary, sequence or interface type accepts). */
export function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** `DOMString`: ECMAScript ToString, which throws a TypeError for a Symbol (`String()` would not). */
export function toDomString(value: unknown): string {
  if (typeof value === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
  return `${value as string}`;
}

/** `USVString`: a `DOMString` whose lone surrogates become U+FFFD (as UTF-8 encoding makes them). */
export function toUsvString(value: unknown): string {
  const string = toDomString(value);
  return /[\uD800-\uDFFF]/.test(string) ? Buffer.from(string, 'utf8').toString('utf8') : string;
}

/** `boolean`: ECMAScript ToBoolean. */
export function toBoolean(value: unknown): boolean {
  return Boolean(value);
}

/** ECMAScript ToNumber: unlike `Number()`, throws a TypeError for a BigInt as for a Symbol. */
function toNumber(value: unknown, context: string): number {
  if (typeof value === 'bigint' || typeof value === 'symbol') throw new TypeError(`${context} is not a number`);
  return Number(value);
}

export interface IntegerConversion {
  /** `[Clamp]`: out-of-range values clamp, and non-integers round to the nearest, ties to even. */
  readonly clamp?: boolean;
  /** `[EnforceRange]`: NaN, infinities and out-of-range values throw a TypeError. */
  readonly enforceRange?: boolean;
}

/** WebIDL's "ConvertToInt" for an unsigned integer type of `bits` bits. */
function toUnsignedInteger(value: unknown, bits: 16 | 32, context: string, conversion: IntegerConversion): number {
  const number = toNumber(value, context);
  const upperBound = 2 ** bits - 1;
  if (conversion.enforceRange === true) {
    if (!Number.isFinite(number)) throw new TypeError(`${context} is not a finite number`);
    const integer = Math.trunc(number);
    if (integer < 0 || integer > upperBound) throw new TypeError(`${context} is outside the range 0 to ${upperBound}`);
    return integer;
  }
  if (Number.isNaN(number)) return 0;
  if (conversion.clamp === true) {
    const clamped = Math.min(Math.max(number, 0), upperBound);
    const floor = Math.floor(clamped);
    const fraction = clamped - floor;
    if (fraction > 0.5) return floor + 1;
    if (fraction < 0.5) return floor;
    return floor % 2 === 0 ? floor : floor + 1;
  }
  if (!Number.isFinite(number)) return 0;
  const modulo = 2 ** bits;
  const integer = Math.trunc(number) % modulo;
  return integer < 0 ? integer + modulo : integer + 0;
}

/** `unsigned short`, optionally `[Clamp]` or `[EnforceRange]`. */
export function toUnsignedShort(value: unknown, context: string, conversion: IntegerConversion = {}): number {
  return toUnsignedInteger(value, 16, context, conversion);
}

/** `unsigned long`. */
export function toUnsignedLong(value: unknown, context: string): number {
  return toUnsignedInteger(value, 32, context, {});
}

/**
 * A dictionary argument: undefined and null are the empty dictionary, any other non-object is a
 * TypeError. Members are then read once each, in the order the caller reads them.
 */
export function toDictionary(value: unknown, context: string): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new TypeError(`${context} is not an object`);
  return value as Readonly<Record<string, unknown>>;
}

/** Whether a value can be converted to a `sequence<T>`: an object with a `Symbol.iterator` method. */
export function isIterableObject(value: unknown): value is Iterable<unknown> {
  return isObject(value) && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/** `sequence<DOMString>` (or `sequence<USVString>` with `convertItem = toUsvString`). */
export function toStringSequence(value: unknown, context: string, convertItem: (item: unknown) => string = toDomString): string[] {
  if (!isIterableObject(value)) throw new TypeError(`${context} is not iterable`);
  return Array.from(value, (item) => convertItem(item));
}

/** The `EventInit` members, in WebIDL's order, for an `Event` subclass to hand to `super`. */
export function toEventInit(init: Readonly<Record<string, unknown>>): EventInit {
  return { bubbles: toBoolean(init['bubbles']), cancelable: toBoolean(init['cancelable']), composed: toBoolean(init['composed']) };
}

/** The `EventInit` dictionary, which Node's types keep to themselves. */
export interface EventInit {
  readonly bubbles?: boolean;
  readonly cancelable?: boolean;
  readonly composed?: boolean;
}

/**
 * `BufferSource`: an ArrayBuffer or a view of one. "Shared" buffers are not accepted without
 * [AllowShared]: a SharedArrayBuffer is not a BufferSource, and a view of one is a TypeError.
 */
export function toBufferSource(value: unknown, context: string): Buffer | undefined {
  if (types.isArrayBuffer(value)) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) {
    if (types.isSharedArrayBuffer(value.buffer)) throw new TypeError(`${context} is a view on a SharedArrayBuffer`);
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return undefined;
}
