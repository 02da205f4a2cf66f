/** How a message body was turned into a run's input. */
export type BodyEncoding = 'empty' | 'json' | 'text' | 'base64';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A message body as a run's input. Brokers seldom say what a body is, so it is recognised by its
 * bytes, whatever a content type claims: empty is `null`; valid UTF-8 that parses as JSON is the parsed
 * value (so the text `42` is the number 42); other valid UTF-8 is the text; anything else is
 * `{ base64 }`, as for webhooks. A leading byte-order mark is dropped.
 */
export function decodeMessageBody(bytes: Uint8Array): { body: unknown; encoding: BodyEncoding } {
  if (bytes.length === 0) return { body: null, encoding: 'empty' };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    // Not UTF-8: binary, kept exactly.
    return { body: { base64: Buffer.from(bytes).toString('base64') }, encoding: 'base64' };
  }
  try {
    return { body: JSON.parse(text) as unknown, encoding: 'json' };
  } catch {
    // Not JSON: plain text.
    return { body: text, encoding: 'text' };
  }
}
