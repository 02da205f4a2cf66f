import { CronSchedule } from '@automateiq/core';
import { describe, expect, it } from 'vitest';
import { MAX_TICKS_PER_CLAIM, planTicks } from './tick-plan';

const everyMinute = CronSchedule.parse('* * * * *');
const at = (iso: string) => new Date(iso);

describe('planning due cron ticks', () => {
  it('fires the one due tick and moves to the next', () => {
    const plan = planTicks({ schedule: everyMinute, due: at('2026-11-22T10:00:00Z'), now: at('2026-11-22T10:00:00.050Z'), misfireWindowMs: 300_000 });
    expect(plan).toEqual({ fire: [at('2026-11-22T10:00:00Z')], skipped: undefined, next: at('2026-11-22T10:01:00Z') });
  });

  it('fires nothing before the tick', () => {
    const plan = planTicks({ schedule: everyMinute, due: at('2026-11-22T10:00:00Z'), now: at('2026-11-22T09:59:59.900Z'), misfireWindowMs: 300_000 });
    expect(plan.fire).toEqual([]);
    expect(plan.next).toEqual(at('2026-11-22T10:00:00Z'));
  });

  it('after an outage, fires each missed tick within the window once and skips the older ones', () => {
    const plan = planTicks({ schedule: everyMinute, due: at('2026-11-22T10:00:00Z'), now: at('2026-11-22T10:07:30Z'), misfireWindowMs: 180_000 });
    expect(plan.fire).toEqual([at('2026-11-22T10:05:00Z'), at('2026-11-22T10:06:00Z'), at('2026-11-22T10:07:00Z')]);
    expect(plan.skipped).toEqual({ count: 5, first: at('2026-11-22T10:00:00Z'), last: at('2026-11-22T10:04:00Z'), countIsLowerBound: false });
    expect(plan.next).toEqual(at('2026-11-22T10:08:00Z'));
  });

  it('a daily tick missed by less than the window fires once; by more, is skipped', () => {
    const daily = CronSchedule.parse('0 9 * * *', 'Europe/Berlin');
    const due = at('2026-11-22T08:00:00Z');
    expect(planTicks({ schedule: daily, due, now: at('2026-11-22T08:04:00Z'), misfireWindowMs: 300_000 }).fire).toEqual([due]);
    const late = planTicks({ schedule: daily, due, now: at('2026-11-22T08:06:00Z'), misfireWindowMs: 300_000 });
    expect(late.fire).toEqual([]);
    expect(late.skipped?.count).toBe(1);
    expect(late.next).toEqual(at('2026-11-23T08:00:00Z'));
  });

  it('bounds the work of a long outage of a frequent schedule', () => {
    const everySecond = CronSchedule.parse('* * * * * *');
    const plan = planTicks({ schedule: everySecond, due: at('2026-11-20T00:00:00Z'), now: at('2026-11-22T00:00:00Z'), misfireWindowMs: 300_000 });
    expect(plan.fire).toHaveLength(MAX_TICKS_PER_CLAIM);
    expect(plan.fire.at(-1)).toEqual(at('2026-11-22T00:00:00Z'));
    expect(plan.skipped?.countIsLowerBound).toBe(true);
    expect(plan.next).toEqual(at('2026-11-22T00:00:01Z'));
  });
});
