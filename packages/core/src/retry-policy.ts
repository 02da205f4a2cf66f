import { durationMs } from './duration';
import type { RetryPolicyOptions } from './model';

/** Retry options with defaults filled in and durations converted to milliseconds. */
export interface RetryPolicy {
  /** Total attempts including the first, 1..100. */
  attempts: number;
  backoff: 'exponential' | 'fixed';
  /** Delay before the first retry, in ms. */
  delayMs: number;
  /** Upper bound of one delay, in ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  attempts: 1,
  backoff: 'exponential',
  delayMs: 1_000,
  maxDelayMs: 300_000,
};

/** Most attempts a policy may ask for. */
export const MAX_ATTEMPTS = 100;

/**
 * Fills the defaults (1 attempt, exponential, 1s, 5m) and converts durations. Throws a `RangeError`
 * when `attempts` is not a whole number in 1..100 or a duration does not parse; definitions are
 * validated before they get here, so that is a programming error.
 */
export function compileRetryPolicy(opts: RetryPolicyOptions = {}): RetryPolicy {
  const attempts = opts.attempts ?? DEFAULT_RETRY_POLICY.attempts;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS) {
    throw new RangeError(`retry attempts must be a whole number from 1 to ${MAX_ATTEMPTS}, got ${attempts}`);
  }
  return {
    attempts,
    backoff: opts.backoff ?? DEFAULT_RETRY_POLICY.backoff,
    delayMs: opts.delay === undefined ? DEFAULT_RETRY_POLICY.delayMs : durationMs(opts.delay),
    maxDelayMs: opts.maxDelay === undefined ? DEFAULT_RETRY_POLICY.maxDelayMs : durationMs(opts.maxDelay),
  };
}

/**
 * Milliseconds to wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed.
 * The base is `delay` (fixed) or `delay * 2^(attempt-1)` (exponential), capped at `maxDelay`; the
 * result is a whole number between 50% and 100% of the base, chosen by `random` in [0, 1). Whether
 * another attempt is allowed at all (`attempt < attempts`) is the caller's decision.
 */
export function retryDelayMs(policy: RetryPolicy, at: { attempt: number; random: number }): number {
  const attempt = Number.isFinite(at.attempt) ? Math.max(1, Math.floor(at.attempt)) : 1;
  const growth = policy.backoff === 'exponential' ? 2 ** (attempt - 1) : 1;
  const base = Math.min(policy.delayMs * growth, policy.maxDelayMs);
  const random = Number.isFinite(at.random) ? Math.min(Math.max(at.random, 0), 1) : 0;
  return Math.round(base * (0.5 + 0.5 * random));
}

/**
 * The retry options of a node: each field of the node's own `retry` wins over the workflow's
 * `settings.retry`. Returns `undefined` when neither is set.
 */
export function mergeRetry(
  workflowDefault: RetryPolicyOptions | undefined,
  nodeOverride: RetryPolicyOptions | undefined,
): RetryPolicyOptions | undefined {
  if (workflowDefault === undefined) return nodeOverride;
  if (nodeOverride === undefined) return workflowDefault;
  const merged: RetryPolicyOptions = { ...workflowDefault };
  if (nodeOverride.attempts !== undefined) merged.attempts = nodeOverride.attempts;
  if (nodeOverride.backoff !== undefined) merged.backoff = nodeOverride.backoff;
  if (nodeOverride.delay !== undefined) merged.delay = nodeOverride.delay;
  if (nodeOverride.maxDelay !== undefined) merged.maxDelay = nodeOverride.maxDelay;
  return merged;
}
