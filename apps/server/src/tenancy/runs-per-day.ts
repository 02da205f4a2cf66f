/**
 * A run refused by the tenant's runsPerDay quota (counted as every start path starts it: see
 * store/queries/record-starts.ts); the quota renews at midnight UTC.
 */
export class RunsPerDayExceededError extends Error {
  override name = 'RunsPerDayExceededError';
  /** Seconds until midnight UTC, at least 1. */
  readonly retryAfterSeconds: number;

  constructor(readonly limit: number) {
    super(`the tenant has started ${limit} runs today, its plan's runsPerDay`);
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    this.retryAfterSeconds = Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
  }
}
