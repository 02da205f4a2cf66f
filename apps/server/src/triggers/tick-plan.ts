import type { CronSchedule } from '@automateiq/core';

/** The misfire window when a cron trigger names none: 5 minutes. */
export const DEFAULT_MISFIRE_WINDOW_MS = 5 * 60_000;
/** Ticks one claim fires at most; older due ticks beyond it are skipped. */
export const MAX_TICKS_PER_CLAIM = 60;

/** What a scheduler does with a due cron trigger. */
export interface TickPlan {
  /** The ticks that fire, oldest first: each due tick within the misfire window. */
  fire: Date[];
  /** Due ticks older than the window (missed while the platform was down): recorded, never fired. */
  skipped: { count: number; first: Date; last: Date; countIsLowerBound: boolean } | undefined;
  /** The trigger's next tick after this claim. */
  next: Date | undefined;
}

/**
 * Plans a claimed trigger's due ticks at `now`: every tick from `due` (its stored next tick) up to
 * `now` fires once if it is no older than `misfireWindowMs`, and is skipped otherwise; at most
 * `MAX_TICKS_PER_CLAIM` fire (the oldest are skipped first). Pure: the scheduler performs the plan.
 */
export function planTicks(args: { schedule: CronSchedule; due: Date; now: Date; misfireWindowMs: number }): TickPlan {
  const { schedule, now } = args;
  const oldestToFire = new Date(now.getTime() - args.misfireWindowMs);
  let skippedCount = 0;
  let lowerBound = false;
  let first: Date | undefined;
  let last: Date | undefined;
  const skip = (tick: Date): void => {
    skippedCount++;
    first ??= tick;
    last = tick;
  };
  // Ticks before the window: skipped. They are counted one by one up to a bound, then jumped over.
  let tick: Date | undefined = args.due;
  for (let counted = 0; tick && tick < oldestToFire; counted++) {
    if (counted === 10_000) {
      // A long outage of a frequent schedule: the rest before the window is jumped over, not counted.
      lowerBound = true;
      last = new Date(oldestToFire.getTime() - 1);
      tick = schedule.next(last);
      break;
    }
    skip(tick);
    tick = schedule.next(tick);
  }
  const fire: Date[] = [];
  while (tick && tick <= now) {
    fire.push(tick);
    tick = schedule.next(tick);
  }
  while (fire.length > MAX_TICKS_PER_CLAIM) skip(fire.shift() as Date);
  return {
    fire,
    skipped: skippedCount > 0 && first && last ? { count: skippedCount, first, last, countIsLowerBound: lowerBound } : undefined,
    next: tick,
  };
}
