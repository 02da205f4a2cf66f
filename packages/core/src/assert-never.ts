/**
 * Ends a `switch` over a tagged union: TypeScript refuses the call while a case is left out, and at
 * run time it throws a `TypeError` naming the unexpected value (data that bypassed the types).
 */
export function assertNever(value: never, what = 'value'): never {
  throw new TypeError(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
