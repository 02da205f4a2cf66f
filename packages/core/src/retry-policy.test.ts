import { describe, expect, it } from 'vitest';
import { compileRetryPolicy, mergeRetry, retryDelayMs } from './retry-policy';

describe('compileRetryPolicy', () => {
  it('fills the defaults: one attempt, exponential, 1s, 5m', () => {
    expect(compileRetryPolicy()).toEqual({
      attempts: 1,
      backoff: 'exponential',
      delayMs: 1_000,
      maxDelayMs: 300_000,
    });
  });

  it('converts durations', () => {
    expect(compileRetryPolicy({ attempts: 3, backoff: 'fixed', delay: '250ms', maxDelay: '2h' })).toEqual({
      attempts: 3,
      backoff: 'fixed',
      delayMs: 250,
      maxDelayMs: 7_200_000,
    });
  });

  it('refuses what validation would have refused', () => {
    expect(() => compileRetryPolicy({ attempts: 0 })).toThrow(RangeError);
    expect(() => compileRetryPolicy({ attempts: 101 })).toThrow(RangeError);
    expect(() => compileRetryPolicy({ attempts: 1.5 })).toThrow(RangeError);
    expect(() => compileRetryPolicy({ delay: 'soon' })).toThrow(/"soon" is not a duration/);
  });
});

describe('retryDelayMs', () => {
  const policy = compileRetryPolicy({ attempts: 10, delay: '1s', maxDelay: '10s' });

  it('doubles the delay after each failed attempt (no jitter at random = 1-)', () => {
    const top = 0.999_999_999;
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, { attempt, random: top }))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
  });

  it('caps the delay at maxDelay, even for huge attempt numbers', () => {
    expect(retryDelayMs(policy, { attempt: 5, random: 0.999_999_999 })).toBe(10_000);
    expect(retryDelayMs(policy, { attempt: 5_000, random: 0.999_999_999 })).toBe(10_000);
  });

  it('jitters between 50% and 100% of the base', () => {
    expect(retryDelayMs(policy, { attempt: 3, random: 0 })).toBe(2_000);
    expect(retryDelayMs(policy, { attempt: 3, random: 0.5 })).toBe(3_000);
    for (let r = 0; r < 1; r += 0.01) {
      const ms = retryDelayMs(policy, { attempt: 2, random: r });
      expect(ms).toBeGreaterThanOrEqual(1_000);
      expect(ms).toBeLessThanOrEqual(2_000);
    }
  });

  it('keeps a fixed delay fixed (apart from jitter)', () => {
    const fixed = compileRetryPolicy({ attempts: 5, backoff: 'fixed', delay: '3s' });
    expect(retryDelayMs(fixed, { attempt: 1, random: 0.999_999_999 })).toBe(3_000);
    expect(retryDelayMs(fixed, { attempt: 4, random: 0.999_999_999 })).toBe(3_000);
    expect(retryDelayMs(fixed, { attempt: 4, random: 0 })).toBe(1_500);
  });
});

describe('mergeRetry', () => {
  it('lets each field of the node override the workflow default', () => {
    expect(
      mergeRetry({ attempts: 3, backoff: 'fixed', delay: '2s' }, { attempts: 5, maxDelay: '1m' }),
    ).toEqual({
      attempts: 5,
      backoff: 'fixed',
      delay: '2s',
      maxDelay: '1m',
    });
  });

  it('uses whichever one is given', () => {
    expect(mergeRetry(undefined, { attempts: 2 })).toEqual({ attempts: 2 });
    expect(mergeRetry({ attempts: 4 }, undefined)).toEqual({ attempts: 4 });
    expect(mergeRetry(undefined, undefined)).toBeUndefined();
  });
});
