import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('allows up to the limit per window and says when the window ends', () => {
    let now = 120_000;
    const limiter = new RateLimiter({ windowMs: 60_000, now: () => now });
    expect(limiter.hit('a', 2)).toEqual({ allowed: true });
    expect(limiter.hit('a', 2)).toEqual({ allowed: true });
    now += 15_000;
    expect(limiter.hit('a', 2)).toEqual({ allowed: false, retryAfterSeconds: 45 });
    expect(limiter.hit('b', 2)).toEqual({ allowed: true });
    now = 180_000;
    expect(limiter.hit('a', 2)).toEqual({ allowed: true });
    expect(limiter.count('a')).toBe(1);
  });
});
