import { ApiError } from './api-error';

/** Opaque page cursors: the last item's sort key, base64url-encoded JSON. */
export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

/** The shapes a cursor's key may have; a key of another shape is refused before it reaches SQL. */
const KEY_SHAPES = {
  /** An id (UUID). */
  uuid: (k: unknown): k is string =>
    typeof k === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(k),
  /** A sequence number sent as text (a bigint). */
  sequence: (k: unknown): k is string => typeof k === 'string' && /^\d{1,18}$/.test(k),
  /** Any text (a slug). */
  text: (k: unknown): k is string => typeof k === 'string' && k.length <= 200,
  /** A whole number (a version). */
  integer: (k: unknown): k is number => Number.isSafeInteger(k),
} as const;
type KeyShape = keyof typeof KEY_SHAPES;
type KeyOf<S extends KeyShape> = S extends 'integer' ? number : string;

/** The key of a cursor this API gave out, or a 400 naming `query.cursor`. */
export function decodeCursor<S extends KeyShape>(cursor: string | undefined, shape: S): KeyOf<S> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (KEY_SHAPES[shape](parsed.k)) return parsed.k as KeyOf<S>;
  } catch {
    // fall through: any malformed cursor gets the same answer
  }
  throw new ApiError('AIQ_VALIDATION', 'query.cursor: not a cursor this API gave out', {
    errors: [{ path: 'query.cursor', message: 'not a cursor this API gave out' }],
  });
}

/** The page of `rows` (fetched with limit + 1) and the cursor of the next one. */
export function pageOf<R>(rows: R[], limit: number, keyOf: (row: R) => string | number): { items: R[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
