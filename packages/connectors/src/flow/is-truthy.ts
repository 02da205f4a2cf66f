const FALSE_STRINGS: ReadonlySet<string> = new Set(['', '0', 'false']);

/**
 * Truthiness of a `flow.if` condition: JavaScript truthiness, except that a string is false when,
 * trimmed and lower-cased, it is `""`, `"0"` or `"false"` — because expressions interpolated into
 * text and values from forms, headers or CSV arrive as strings. So `"false"`, `" FALSE "`, `"0"`,
 * `""`, `0`, `NaN`, `null`, `undefined` and `false` are false; `"no"`, `[]` and `{}` are true.
 */
export function isTruthy(value: unknown): boolean {
  if (typeof value === 'string') return !FALSE_STRINGS.has(value.trim().toLowerCase());
  return Boolean(value);
}
