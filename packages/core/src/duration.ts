/** A duration as written in definitions: `250ms`, `30s`, `5m`, `2h`, `1d` (a whole number and a unit). */
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Milliseconds of a duration string, or `undefined` when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * UNIT_MS[unit as Unit];
}

/** Like `parseDuration`, but throws a `RangeError` naming the text when it is not a duration. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new RangeError(`"${text}" is not a duration (use e.g. 250ms, 30s, 5m, 2h, 1d)`);
  }
  return ms;
}

/** A short human rendering of milliseconds, e.g. `1.2s`, `340ms`, `3m`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}
