/**
 * A PostgreSQL array literal of strings, `{"a","b"}`: how a text[] per row travels in a column of
 * `unnest` (unnest of a text[][] would flatten it, and needs rows of one length).
 */
export function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
