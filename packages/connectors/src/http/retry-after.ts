/**
 * Milliseconds to wait according to a `Retry-After` header: delay-seconds (`120`) or an HTTP date,
 * measured from `nowMs` (epoch ms). `undefined` when absent or unreadable; never negative.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
