import type { RunStatus } from '@automateiq/core';
import type { Tx } from '../store/database';
import {
  applyRunChanges,
  type NewJob,
  type NewStep,
  type RunEnd,
  type StepAttemptRecord,
  type StepRef,
} from '../store/queries/apply-run-changes';
import type { ClaimedJob } from '../store/queries/claim-jobs';
import { notifyRunChanges } from '../store/queries/notify-run-changes';

/**
 * The writes that advancing some runs of one tenant comes to, gathered so that they are one
 * statement whatever the number of runs and steps.
 */
export class RunMutations {
  readonly records: StepAttemptRecord[] = [];
  readonly steps: NewStep[] = [];
  readonly jobs: NewJob[] = [];
  readonly cancels: StepRef[] = [];
  readonly ends: RunEnd[] = [];
  readonly statuses: { runId: string; status: RunStatus }[] = [];
  /** Runs with a step running in some worker that must be aborted. */
  readonly aborts = new Set<string>();
  /** Runs announced as changed although nothing above names them (a run just created, still queued). */
  readonly touched = new Set<string>();
  /** Wake idle workers (NOTIFY aiq_jobs) when the writes commit: new jobs are ready now. */
  wakeWorkers = false;

  /** Performs the writes in the caller's transaction (which holds the runs' locks); returns the jobs the worker took. */
  async apply(
    tx: Tx,
    args: { tenantId: string; worker?: { id: string; leaseMs: number } | undefined },
  ): Promise<ClaimedJob[]> {
    // A run that ends takes nothing further: its end cancels what is open and deletes its jobs.
    const ended = new Set(this.ends.map((e) => e.runId));
    const live = <T extends { runId: string }>(items: readonly T[]): T[] =>
      items.filter((i) => !ended.has(i.runId));
    const changes = {
      records: mergeRecords(this.records),
      cancels: live(this.cancels),
      // Steps that already ran or were skipped stay; those that would start do not.
      steps: this.steps.filter((s) => !ended.has(s.runId) || (s.status !== 'pending' && s.status !== 'running')),
      jobs: live(this.jobs),
      ends: this.ends,
      statuses: live(this.statuses),
    };
    const announce = { runs: this.changedRuns(), wakeWorkers: this.wakeWorkers };
    const empty = Object.values(changes).every((part) => part.length === 0);
    // The announcement travels in the changes' own statement; alone only when there are no changes.
    const taken = await applyRunChanges(tx, { tenantId: args.tenantId, worker: args.worker, changes, announce });
    if (this.aborts.size > 0) {
      await tx.query("SELECT pg_notify('aiq_cancel', id) FROM unnest($1::text[]) AS id", [[...this.aborts]]);
    }
    if (empty) {
      await notifyRunChanges(tx, {
        tenantId: args.tenantId,
        runs: new Map([...announce.runs].map(([id, e]) => [id, e.changed])),
        wakeWorkers: this.wakeWorkers,
      });
    }
    return taken;
  }

  /** Every run these writes touch, whether the run itself (not only its steps) changed, and the status they set. */
  private changedRuns(): Map<string, { changed: boolean; status?: string }> {
    const runs = new Map<string, { changed: boolean; status?: string }>();
    for (const part of [this.records, this.steps, this.cancels]) for (const { runId } of part) runs.set(runId, { changed: false });
    for (const runId of this.touched) runs.set(runId, { changed: true });
    for (const { runId, status } of this.statuses) runs.set(runId, { changed: true, status });
    for (const { runId, status } of this.ends) runs.set(runId, { changed: true, status });
    return runs;
  }
}

/**
 * One record per attempt: a later one (a forEach settled in the batch that started it) wins, but keeps
 * what the earlier one knew (its item count and concurrency).
 */
function mergeRecords(records: readonly StepAttemptRecord[]): StepAttemptRecord[] {
  const byKey = new Map<string, StepAttemptRecord>();
  for (const record of records) {
    const key = `${record.runId}\u0000${record.scope}\u0000${record.nodeId}\u0000${record.attempt}`;
    const before = byKey.get(key);
    byKey.set(key, before ? { ...before, ...definedOnly(record) } : record);
  }
  return [...byKey.values()];
}

function definedOnly(record: StepAttemptRecord): Partial<StepAttemptRecord> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
