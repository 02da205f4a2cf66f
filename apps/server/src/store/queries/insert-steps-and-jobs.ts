import type { StepStatus } from '@automateiq/core';
import type { Tx } from '../database';
import type { ClaimedJob } from './claim-jobs';

export type JobKind = 'step' | 'resume' | 'deadline';

export interface NewStep {
  runId: string;
  scope: string;
  nodeId: string;
  attempt: number;
  /** `running`: the step starts now, in the worker that takes its job (see `NewJob.taken`). */
  status: StepStatus;
}

export interface NewJob {
  runId: string;
  kind: JobKind;
  scope: string;
  nodeId: string;
  attempt: number;
  priority: number;
  /** Epoch ms; absent: now. */
  availableAt?: number | undefined;
  /** Claimed at once by the given worker (its lease starts now), instead of waiting in the queue. */
  taken?: boolean | undefined;
}

/**
 * Inserts step attempts and jobs (of any runs of one tenant) in one statement. Skipped and cancelled
 * steps are finished at once; running ones started. A job that exists already (same step attempt) is
 * not doubled. Returns the jobs taken by the worker, as claimed jobs.
 */
export async function insertStepsAndJobs(
  tx: Tx,
  args: {
    tenantId: string;
    steps: readonly NewStep[];
    jobs: readonly NewJob[];
    /** Needed when a job is `taken`. */
    worker?: { id: string; leaseMs: number } | undefined;
  },
): Promise<ClaimedJob[]> {
  if (args.steps.length === 0 && args.jobs.length === 0) return [];
  const { steps, jobs } = args;
  const { rows } = await tx.query<{
    id: string;
    run_id: string;
    kind: JobKind;
    scope: string;
    node_id: string;
    attempt: number;
    taken: boolean;
  }>(
    `WITH new_steps AS (
       INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, started_at, finished_at)
       SELECT $1, s.run_id, s.scope, s.node_id, s.attempt, s.status,
              CASE WHEN s.status = 'running' THEN now() END,
              CASE WHEN s.status IN ('skipped', 'cancelled') THEN now() END
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[]) AS s(run_id, scope, node_id, attempt, status)
     )
     INSERT INTO jobs (tenant_id, run_id, kind, scope, node_id, attempt, priority, available_at, locked_by, claims)
     SELECT $1, j.run_id, j.kind, j.scope, j.node_id, j.attempt, j.priority,
            CASE WHEN j.taken THEN now() + $15 * interval '1 millisecond'
                 ELSE coalesce(to_timestamp(j.available_at / 1000), now()) END,
            CASE WHEN j.taken THEN $14 END,
            CASE WHEN j.taken THEN 1 ELSE 0 END
       FROM unnest($7::uuid[], $8::text[], $9::text[], $10::text[], $11::int[], $12::smallint[], $13::double precision[], $16::bool[])
            AS j(run_id, kind, scope, node_id, attempt, priority, available_at, taken)
     ON CONFLICT (tenant_id, run_id, kind, scope, node_id, attempt) DO NOTHING
     RETURNING id::text AS id, run_id, kind, scope, node_id, attempt, locked_by IS NOT NULL AS taken`,
    [
      args.tenantId,
      steps.map((s) => s.runId),
      steps.map((s) => s.scope),
      steps.map((s) => s.nodeId),
      steps.map((s) => s.attempt),
      steps.map((s) => s.status),
      jobs.map((j) => j.runId),
      jobs.map((j) => j.kind),
      jobs.map((j) => j.scope),
      jobs.map((j) => j.nodeId),
      jobs.map((j) => j.attempt),
      jobs.map((j) => j.priority),
      jobs.map((j) => j.availableAt ?? null),
      args.worker?.id ?? null,
      args.worker?.leaseMs ?? 0,
      jobs.map((j) => j.taken === true),
    ],
  );
  return rows
    .filter((r) => r.taken)
    .map((r) => ({
      tenantId: args.tenantId,
      id: r.id,
      runId: r.run_id,
      kind: r.kind,
      scope: r.scope,
      nodeId: r.node_id,
      attempt: r.attempt,
      claims: 1,
    }));
}
