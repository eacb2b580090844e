/**
 * Header fields as Node's `IncomingMessage.headers` holds them: lower-case names; a field that
 * appeared more than once is either an array or its values joined with ", ", depending on the
 * field (both are handled here).
 */
export type IncomingHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The values of field `name` (lower-case), one per occurrence; empty when the field is absent. */
export function headerValues(headers: IncomingHeaders, name: string): readonly string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/**
 * The values of a list-valued field as one value. RFC 7230 §3.2.2: a recipient "MAY combine
 * multiple header fields with the same field name into one "field-name: field-value" pair ...
 * by appending each subsequent field value to the combined field value in order, separated by a
 * comma". Undefined when the field is absent.
 */
export function combinedHeaderValue(headers: IncomingHeaders, name: string): string | undefined {
  const values = headerValues(headers, name);
  return values.length === 0 ? undefined : values.join(', ');
}

/** The fields as a record of strings (repeated fields combined), e.g. to keep on an error. */
export function flattenHeaders(headers: IncomingHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = combinedHeaderValue(headers, name);
    if (value !== undefined) flat[name] = value;
  }
  return flat;
}
