import type { RunStatus } from '@automateiq/core';
import type { Tx } from '../database';

export interface RunHead {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  priority: number;
  input: unknown;
  trigger: Record<string, unknown>;
  startedAt: Date | null;
  /** How deep the run is in a tree of sub-workflow runs (a top run: 0). */
  depth: number;
  /** The revision of the run's steps (from `lockRuns`: the one before this change). */
  revision: number;
}

const RUN_HEAD = `r.id, r.workflow_id AS "workflowId", r.version, r.status, r.priority, r.input, r.trigger,
  r.started_at AS "startedAt", r.depth, r.revision - 1 AS revision`;

/**
 * Locks runs' rows for the rest of the transaction, in id order so that concurrent batches never
 * deadlock, and bumps their revision: whoever changes a run's steps holds its lock, so no two changes
 * of a run interleave, and a state read at an older revision is known to be stale.
 */
export async function lockRuns(
  tx: Tx,
  args: { tenantId: string; runIds: readonly string[] },
): Promise<Map<string, RunHead>> {
  if (args.runIds.length === 0) return new Map();
  const { rows } = await tx.query<RunHead>({
    name: 'aiq_lock_runs',
    text: `WITH locked AS (
       SELECT id FROM runs WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE
     )
     UPDATE runs r SET revision = r.revision + 1 FROM locked l WHERE r.tenant_id = $1 AND r.id = l.id
     RETURNING ${RUN_HEAD}`,
    values: [args.tenantId, [...new Set(args.runIds)]],
  });
  return new Map(rows.map((r) => [r.id, { ...r, revision: Number(r.revision) }]));
}

/**
 * Removes claimed jobs as their work is recorded, and locks and bumps their runs (as `lockRuns`), in
 * one statement. Only the worker that holds a job may take it: the ids of jobs it no longer holds
 * (its lease ran out and another worker claimed them) are missing from `taken`.
 */
export async function takeJobsAndLockRuns(
  tx: Tx,
  args: { tenantId: string; jobIds: readonly string[]; workerId: string },
): Promise<{ taken: Set<string>; runs: Map<string, RunHead> }> {
  const { rows } = await tx.query<RunHead & { jobs: string[] | null }>({
    name: 'aiq_take_jobs_and_lock_runs',
    text: `WITH taken AS (
       DELETE FROM jobs WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND locked_by = $3 RETURNING id, run_id
     ), locked AS (
       SELECT id FROM runs WHERE tenant_id = $1 AND id IN (SELECT run_id FROM taken) ORDER BY id FOR UPDATE
     ), bumped AS (
       UPDATE runs r SET revision = r.revision + 1 FROM locked l WHERE r.tenant_id = $1 AND r.id = l.id
       RETURNING r.*
     )
     SELECT ${RUN_HEAD}, (SELECT array_agg(t.id::text) FROM taken t WHERE t.run_id = r.id) AS jobs FROM bumped r`,
    values: [args.tenantId, args.jobIds, args.workerId],
  });
  const taken = new Set<string>();
  const runs = new Map<string, RunHead>();
  for (const { jobs, ...run } of rows) {
    for (const id of jobs ?? []) taken.add(id);
    runs.set(run.id, { ...run, revision: Number(run.revision) });
  }
  return { taken, runs };
}
