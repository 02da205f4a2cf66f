import { ApiError } from './api-error';

/** Opaque page cursors: the last item's sort key, base64url-encoded JSON. */
export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string | undefined,
  type: T,
): (T extends 'string' ? string : number) | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === type) return parsed.k as T extends 'string' ? string : number;
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
