/** Response header fields as a record of strings, repeated fields joined as RFC 7230 §3.2.2 allows. */
export function flattenHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return flat;
}
