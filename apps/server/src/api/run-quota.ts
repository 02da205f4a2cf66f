import { RunsPerDayExceededError } from '../tenancy/runs-per-day';
import { ApiError } from './api-error';

/**
 * A start's refusal as the API answers it: `RunsPerDayExceededError` is 429 AIQ_QUOTA_EXCEEDED with
 * Retry-After; any other error is returned as it is.
 */
export function runQuotaError(error: unknown): unknown {
  if (!(error instanceof RunsPerDayExceededError)) return error;
  return new ApiError('AIQ_QUOTA_EXCEEDED', error.message, {
    extensions: { quota: 'runsPerDay', limit: error.limit },
    headers: { 'retry-after': String(error.retryAfterSeconds) },
  });
}
