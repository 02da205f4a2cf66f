/** The content types a webhook accepts unless its trigger names others. */
export const DEFAULT_WEBHOOK_CONTENT_TYPES: readonly string[] = ['application/json'];

export type WebhookBody =
  | { ok: true; input: unknown }
  | { ok: false; code: 'unsupported'; message: string }
  | { ok: false; code: 'malformed'; message: string };

/**
 * A webhook request's raw body as the run's input, when its media type is one the trigger accepts
 * (`allowed`, compared without parameters and case): JSON parsed; `application/x-www-form-urlencoded`
 * as an object of its fields (a repeated field as an array); any `text/*`, XML or other accepted type
 * as text when it is UTF-8, else `{ base64 }`. An empty body (a GET, say) is `null` whatever its type.
 */
export function parseWebhookBody(args: {
  contentType: string | undefined;
  body: Buffer | undefined;
  allowed: readonly string[];
}): WebhookBody {
  const body = args.body ?? Buffer.alloc(0);
  if (body.length === 0) return { ok: true, input: null };
  const mediaType = (args.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!args.allowed.some((type) => type.toLowerCase() === mediaType))
    return {
      ok: false,
      code: 'unsupported',
      message: `the webhook accepts ${args.allowed.join(', ')}, not ${mediaType === '' ? 'a body without Content-Type' : mediaType}`,
    };
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      return { ok: true, input: JSON.parse(body.toString('utf8')) as unknown };
    } catch (error) {
      return { ok: false, code: 'malformed', message: `the body is not JSON: ${(error as Error).message}` };
    }
  }
  if (mediaType === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
      const seen = fields[key];
      fields[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    return { ok: true, input: fields };
  }
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return { ok: true, input: text.decode(body) };
  } catch {
    return { ok: true, input: { base64: body.toString('base64') } };
  }
}
