/**
 * Broker metadata (AMQP header tables, NATS headers, MQTT properties) as JSON values, so that it can
 * be stored with a run: bytes become their UTF-8 text, or `{ base64 }` when not UTF-8; big integers
 * become strings; dates ISO strings; `undefined` fields are dropped. Cycles cannot occur in decoded
 * broker data, so none are checked.
 */
export function toJsonValue(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return bytesToJson(value);
  if (Array.isArray(value)) return value.map((item) => toJsonValue(item) ?? null);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const json = toJsonValue(item);
      if (json !== undefined) out[key] = json;
    }
    return out;
  }
  return undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function bytesToJson(bytes: Uint8Array): unknown {
  try {
    return UTF8.decode(bytes);
  } catch {
    // Not UTF-8: keep the bytes exactly.
    return { base64: Buffer.from(bytes).toString('base64') };
  }
}

/** Milliseconds since the epoch as an ISO string; `undefined` when it is not a representable time. */
export function isoTime(ms: number): string | undefined {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
