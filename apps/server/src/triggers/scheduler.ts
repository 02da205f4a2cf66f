import { CronSchedule, parseDuration } from '@automateiq/core';
import type { Logger } from 'pino';
import type { Engine } from '../engine';
import { writeAudit } from '../security/audit';
import type { AuditActor } from '../security/principal';
import type { Database, Tx } from '../store/database';
import { advanceTick } from '../store/queries/advance-tick';
import { claimDueTicks, type DueTick } from '../store/queries/claim-due-ticks';
import { nextDueTick } from '../store/queries/next-due-tick';
import { RunsPerDayExceededError } from '../tenancy/runs-per-day';
import { DEFAULT_MISFIRE_WINDOW_MS, planTicks } from './tick-plan';

export interface SchedulerOptions {
  db: Database;
  engine: Engine;
  logger: Logger;
  /** Longest sleep between two looks at the schedule. Default: 1s. */
  maxSleepMs?: number;
  /** Triggers claimed per transaction. Default: 50. */
  batchSize?: number;
  /** The clock, epoch ms. Default: Date.now. */
  now?: () => number;
}

/** The scheduler as the audit trail names it. */
const SCHEDULER: AuditActor = { type: 'system', id: null, label: 'scheduler' };

/**
 * Fires the ticks of armed cron triggers. Any number of schedulers may run against one database:
 * each claims due triggers with `FOR UPDATE SKIP LOCKED`, starts one run per tick through the engine
 * with the idempotency key `cron:<trigger>:<tick>` (a tick retried after a crash finds its run) and
 * moves the trigger's next tick on in the same transaction as the claim, so every tick starts exactly
 * one run. Ticks older than the trigger's misfire window (default 5 minutes) are recorded in the
 * audit trail as skipped, never fired. Suspended tenants' triggers are not claimed.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly now: () => number;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Fires every due tick now (one claim after another until none is due); returns the runs started. */
  async tick(): Promise<number> {
    let started = 0;
    for (;;) {
      const claimed = await this.claimAndFire();
      started += claimed.started;
      if (claimed.triggers < (this.options.batchSize ?? 50)) return started;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.loop().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
  }

  private async loop(): Promise<void> {
    let sleep = this.options.maxSleepMs ?? 1_000;
    try {
      await this.tick();
      const next = await nextDueTick(this.options.db.system);
      if (next) sleep = Math.min(sleep, Math.max(0, next.getTime() - this.now()));
    } catch (error) {
      this.options.logger.error({ err: error }, 'the scheduler failed to fire due ticks; trying again');
    }
    this.schedule(sleep);
  }

  private async claimAndFire(): Promise<{ triggers: number; started: number }> {
    const { db } = this.options;
    return db.withSystem('scheduler: claim due cron ticks', async (system) => {
      const due = await claimDueTicks(system, { now: new Date(this.now()), limit: this.options.batchSize ?? 50 });
      let started = 0;
      for (const trigger of due) started += await this.fire(system, trigger);
      return { triggers: due.length, started };
    });
  }

  /** Fires (or skips) one claimed trigger's due ticks and moves its next tick on. */
  private async fire(system: Tx, trigger: DueTick): Promise<number> {
    const { config } = trigger;
    const schedule = CronSchedule.parse(String(config.schedule), typeof config.timezone === 'string' ? config.timezone : undefined);
    const misfireWindowMs =
      (typeof config.misfireWindow === 'string' ? parseDuration(config.misfireWindow) : undefined) ?? DEFAULT_MISFIRE_WINDOW_MS;
    const plan = planTicks({ schedule, due: trigger.nextFireAt, now: new Date(this.now()), misfireWindowMs });
    if (plan.skipped) {
      const { count, first, last, countIsLowerBound } = plan.skipped;
      await this.options.db.withTenant(trigger.tenantId, (tx) =>
        writeAudit(tx, trigger.tenantId, {
          actor: SCHEDULER,
          action: 'schedule.skipped',
          target: { type: 'workflow', id: trigger.workflowId },
          details: {
            trigger: trigger.position,
            ticks: count,
            ...(countIsLowerBound ? { atLeast: true } : {}),
            first: first.toISOString(),
            last: last.toISOString(),
            reason: `older than the misfire window (${misfireWindowMs} ms)`,
          },
        }),
      );
      this.options.logger.warn({ tenantId: trigger.tenantId, workflowId: trigger.workflowId, ticks: count }, 'cron ticks skipped');
    }
    let started = 0;
    for (const tick of plan.fire) {
      if (await this.startTickRun(trigger, tick)) started++;
    }
    // A schedule with no tick left (a date long past) waits for ever.
    await advanceTick(system, { ...trigger, nextFireAt: plan.next ?? new Date('9999-12-31T00:00:00Z') });
    return started;
  }

  /** Starts the run of one tick; false when it existed already (a retried claim) or was refused. */
  private async startTickRun(trigger: DueTick, tick: Date): Promise<boolean> {
    const scheduledAt = tick.toISOString();
    try {
      const { created } = await this.options.engine.startRun({
        tenantId: trigger.tenantId,
        workflowId: trigger.workflowId,
        version: trigger.version,
        tenantConcurrencyQuota: trigger.quotas.concurrentRuns,
        input: { scheduledAt },
        trigger: { type: 'cron', schedule: trigger.config.schedule, scheduledAt, input: { scheduledAt } },
        idempotencyKey: `cron:${trigger.position}:${scheduledAt}`,
        runsPerDay: { limit: trigger.quotas.runsPerDay },
        audit: ({ runId, version }) => ({
          actor: SCHEDULER,
          action: 'run.start',
          target: { type: 'run', id: runId },
          details: { workflowId: trigger.workflowId, version, trigger: 'cron', scheduledAt },
        }),
      });
      return created;
    } catch (error) {
      if (!(error instanceof RunsPerDayExceededError)) throw error;
      await this.options.db.withTenant(trigger.tenantId, (tx) =>
        writeAudit(tx, trigger.tenantId, {
          actor: SCHEDULER,
          action: 'schedule.refused',
          target: { type: 'workflow', id: trigger.workflowId },
          details: { trigger: trigger.position, scheduledAt, reason: error.message },
        }),
      );
      return false;
    }
  }
}
