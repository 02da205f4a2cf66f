import { z } from 'zod';

export const uuidSchema = z.uuid({ error: 'must be a UUID' });
export const idParams = z.strictObject({ id: uuidSchema });
export const isoTime = z.iso.datetime({ offset: true });
/** Any JSON value (the body is already parsed JSON; a recursive schema would not survive the OpenAPI document). */
export const jsonValue = z.unknown().meta({ description: 'Any JSON value' });

/** `?limit=&cursor=`: at most `limit` items (default 50, at most 500) after `cursor`. */
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(200).optional(),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.strictObject({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const fieldErrorSchema = z.object({ path: z.string(), message: z.string() });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .loose()
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const emptySchema = z.null().meta({ description: 'No content' });
