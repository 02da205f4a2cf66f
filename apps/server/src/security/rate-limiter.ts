/**
 * Fixed-window request counters kept in this process: `hit(key, limit)` counts a request and says
 * whether it is within `limit` per window, and if not, how many seconds until the window ends.
 * Several API processes each count their own share (REDIS_URL could share them; not yet).
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly windowMs: number;
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(args: { windowMs?: number; now?: () => number } = {}) {
    this.windowMs = args.windowMs ?? 60_000;
    this.now = args.now ?? Date.now;
  }

  hit(key: string, limit: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    this.sweep(now);
    const start = now - (now % this.windowMs);
    let window = this.windows.get(key);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count <= limit) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((start + this.windowMs - now) / 1000)) };
  }

  /** Requests counted in the current window. */
  count(key: string): number {
    const now = this.now();
    const window = this.windows.get(key);
    return window && window.start === now - (now % this.windowMs) ? window.count : 0;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    const current = now - (now % this.windowMs);
    for (const [key, window] of this.windows) if (window.start < current) this.windows.delete(key);
  }
}
