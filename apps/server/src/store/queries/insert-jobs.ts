import type { Tx } from '../database';

export type JobKind = 'step' | 'resume' | 'deadline';

export interface NewJob {
  kind: JobKind;
  scope: string;
  nodeId: string;
  attempt: number;
  /** Epoch ms; absent: now. */
  availableAt?: number | undefined;
}

/** Enqueues jobs of one run in one statement; a job that exists already (same step attempt) is not doubled. */
export async function insertJobs(
  tx: Tx,
  args: { tenantId: string; runId: string; priority: number; jobs: readonly NewJob[] },
): Promise<void> {
  if (args.jobs.length === 0) return;
  await tx.query(
    `INSERT INTO jobs (tenant_id, run_id, kind, scope, node_id, attempt, priority, available_at)
     SELECT $1, $2, j.kind, j.scope, j.node_id, j.attempt, $3,
            coalesce(to_timestamp(j.available_at / 1000), now())
       FROM unnest($4::text[], $5::text[], $6::text[], $7::int[], $8::double precision[])
            AS j(kind, scope, node_id, attempt, available_at)
     ON CONFLICT (tenant_id, run_id, kind, scope, node_id, attempt) DO NOTHING`,
    [
      args.tenantId,
      args.runId,
      args.priority,
      args.jobs.map((j) => j.kind),
      args.jobs.map((j) => j.scope),
      args.jobs.map((j) => j.nodeId),
      args.jobs.map((j) => j.attempt),
      args.jobs.map((j) => j.availableAt ?? null),
    ],
  );
}
