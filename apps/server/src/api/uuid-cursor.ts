import { ApiError } from './api-error';
import { decodeCursor } from './cursor';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A page cursor whose key is a UUID (the last item's id), or a 400 naming `query.cursor`. */
export function decodeUuidCursor(cursor: string | undefined): string | undefined {
  const key = decodeCursor(cursor, 'string');
  if (key === undefined || UUID.test(key)) return key;
  throw new ApiError('AIQ_VALIDATION', 'query.cursor: not a cursor this API gave out', {
    errors: [{ path: 'query.cursor', message: 'not a cursor this API gave out' }],
  });
}
