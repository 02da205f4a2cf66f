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

  /** Performs the writes in the caller's transaction (which holds the runs' locks); returns the jobs the worker took. */
  async apply(
    tx: Tx,
    args: { tenantId: string; worker?: { id: string; leaseMs: number } | undefined },
  ): Promise<ClaimedJob[]> {
    // A run that ends takes nothing further: its end cancels what is open and deletes its jobs.
    const ended = new Set(this.ends.map((e) => e.runId));
    const live = <T extends { runId: string }>(items: readonly T[]): T[] =>
      items.filter((i) => !ended.has(i.runId));
    const taken = await applyRunChanges(tx, {
      tenantId: args.tenantId,
      worker: args.worker,
      changes: {
        records: mergeRecords(this.records),
        cancels: live(this.cancels),
        // Steps that already ran or were skipped stay; those that would start do not.
        steps: this.steps.filter((s) => !ended.has(s.runId) || (s.status !== 'pending' && s.status !== 'running')),
        jobs: live(this.jobs),
        ends: this.ends,
        statuses: live(this.statuses),
      },
    });
    if (this.aborts.size > 0) {
      await tx.query("SELECT pg_notify('aiq_cancel', id) FROM unnest($1::text[]) AS id", [[...this.aborts]]);
    }
    return taken;
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
