export interface InterfaceDefinition {
  /** The interface's name, what `Object.prototype.toString` shows (`[object WebSocket]`). */
  readonly name: string;
  /** The constructor's `length`: the required arguments of its shortest overload. */
  readonly length: number;
  /** Constants, defined on both the constructor and the prototype. */
  readonly constants?: Readonly<Record<string, number>>;
  /** Regular attributes: accessors on the prototype. */
  readonly attributes?: readonly string[];
  /** Regular operations, with their `length` (the number of required arguments). */
  readonly operations?: Readonly<Record<string, number>>;
}

/**
 * Gives a class the property shapes WebIDL's ECMAScript binding prescribes
 * (https://webidl.spec.whatwg.org/#es-interfaces), which a JavaScript class does not have by
 * itself: class accessors and methods are not enumerable, and a TypeScript method with optional
 * parameters has a `length` that counts them.
 *
 * - constants: "{ [[Writable]]: false, [[Enumerable]]: true, [[Configurable]]: false }", on the
 *   interface object and the interface prototype object;
 * - attributes: "{ [[Get]]: G, [[Set]]: S, [[Enumerable]]: true, [[Configurable]]: true }";
 * - operations: "{ [[Writable]]: true, [[Enumerable]]: true, [[Configurable]]: true }", with a
 *   `length` that is "the length of the shortest argument list" of its overloads;
 * - @@toStringTag: "{ [[Writable]]: false, [[Enumerable]]: false, [[Configurable]]: true }".
 */
export function defineInterface(constructor: abstract new (...args: never[]) => unknown, definition: InterfaceDefinition): void {
  const prototype = constructor.prototype as object;
  Object.defineProperty(constructor, 'length', { value: definition.length });
  for (const [name, value] of Object.entries(definition.constants ?? {})) {
    const constant = { value, writable: false, enumerable: true, configurable: false };
    Object.defineProperty(constructor, name, constant);
    Object.defineProperty(prototype, name, constant);
  }
  for (const name of definition.attributes ?? []) {
    Object.defineProperty(prototype, name, { ...ownDescriptor(prototype, name), enumerable: true });
  }
  for (const [name, length] of Object.entries(definition.operations ?? {})) {
    const descriptor = ownDescriptor(prototype, name);
    Object.defineProperty(descriptor.value as object, 'length', { value: length });
    Object.defineProperty(prototype, name, { ...descriptor, enumerable: true });
  }
  Object.defineProperty(prototype, Symbol.toStringTag, { value: definition.name, writable: false, enumerable: false, configurable: true });
}

function ownDescriptor(prototype: object, name: string): PropertyDescriptor {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
  if (descriptor === undefined) throw new TypeError(`${name} is not defined on the prototype`);
  return descriptor;
}
