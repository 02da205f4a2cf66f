/**
 * The triggers bench's cron figure: a Scheduler fires an armed every-second trigger while a worker
 * runs; per tick, how long after its scheduled second its run was recorded (`runs.created_at`, the
 * start of the transaction that inserted it) and its first step started (`runs.started_at`, set by
 * the worker's claim), both on PostgreSQL's clock, which is this machine's.
 */
import type { Logger } from 'pino';
import type { Engine } from '../apps/server/src/engine';
import type { Database } from '../apps/server/src/store/database';
import { Scheduler } from '../apps/server/src/triggers/scheduler';

export interface CronTick {
  scheduledAt: string;
  /** `created_at - scheduledAt`, in ms. */
  recordedMs: number;
  /** `started_at - scheduledAt`, in ms; undefined: not started when the wait ended. */
  startedMs: number | undefined;
}

export interface CronMeasurement {
  /** The measured ticks, in order. */
  ticks: CronTick[];
  /** Ticks fired before them and not counted (the first: cold queries). */
  warmupTicks: number;
}

/** Ticks fired before the measured ones. */
const WARMUP_TICKS = 1;

/**
 * Starts a Scheduler (default `maxSleepMs`) on the database, waits until `ticks` ticks of `workflowId`
 * after the warm-up have started runs and the worker has started them (at most `ticks` + 10 s), stops
 * the Scheduler and reads the delays. The workflow's trigger must be armed; a worker must be running.
 */
export async function measureCron(args: {
  db: Database;
  engine: Engine;
  logger: Logger;
  tenantId: string;
  workflowId: string;
  ticks: number;
}): Promise<CronMeasurement> {
  const scheduler = new Scheduler({ db: args.db, engine: args.engine, logger: args.logger });
  const wanted = WARMUP_TICKS + args.ticks;
  const deadline = Date.now() + (wanted + 10) * 1_000;
  let rows: CronTick[] = [];
  scheduler.start();
  try {
    for (;;) {
      rows = await readTicks(args);
      const started = rows.slice(0, wanted).filter((r) => r.startedMs !== undefined).length;
      if (started >= wanted || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await scheduler.stop();
  }
  return { ticks: rows.slice(WARMUP_TICKS, wanted), warmupTicks: Math.min(WARMUP_TICKS, rows.length) };
}

async function readTicks(args: { db: Database; tenantId: string; workflowId: string }): Promise<CronTick[]> {
  const { rows } = await args.db.systemQuery<{ scheduledAt: string; recordedMs: number; startedMs: number | null }>(
    'bench: the delays of cron ticks',
    `SELECT trigger->>'scheduledAt' AS "scheduledAt",
            (extract(epoch FROM created_at - (trigger->>'scheduledAt')::timestamptz) * 1000)::float8 AS "recordedMs",
            (extract(epoch FROM started_at - (trigger->>'scheduledAt')::timestamptz) * 1000)::float8 AS "startedMs"
       FROM runs
      WHERE tenant_id = $1 AND workflow_id = $2
      ORDER BY (trigger->>'scheduledAt')::timestamptz`,
    [args.tenantId, args.workflowId],
  );
  return rows.map((r) => ({ scheduledAt: r.scheduledAt, recordedMs: r.recordedMs, startedMs: r.startedMs ?? undefined }));
}
