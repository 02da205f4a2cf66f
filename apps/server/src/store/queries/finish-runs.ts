import type { RunStatus, StepError } from '@automateiq/core';
import type { Tx } from '../database';

export interface RunEnd {
  runId: string;
  status: Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled'>;
  output?: unknown;
  error?: StepError | undefined;
}

/**
 * Ends runs in one statement: records their final status with the output or error, cancels their
 * open steps and deletes all their jobs.
 */
export async function finishRuns(tx: Tx, args: { tenantId: string; ends: readonly RunEnd[] }): Promise<void> {
  if (args.ends.length === 0) return;
  const e = args.ends;
  await tx.query(
    `WITH ended AS (
       UPDATE runs r SET status = v.status, output = v.output, error = v.error, finished_at = now()
         FROM unnest($2::uuid[], $3::text[], $4::jsonb[], $5::jsonb[]) AS v(id, status, output, error)
        WHERE r.tenant_id = $1 AND r.id = v.id
     ), cancelled AS (
       UPDATE steps s SET status = 'cancelled', finished_at = now()
        WHERE s.tenant_id = $1 AND s.run_id = ANY($2::uuid[]) AND s.status IN ('pending', 'running', 'waiting')
     )
     DELETE FROM jobs WHERE tenant_id = $1 AND run_id = ANY($2::uuid[])`,
    [
      args.tenantId,
      e.map((x) => x.runId),
      e.map((x) => x.status),
      e.map((x) => (x.output === undefined ? null : JSON.stringify(x.output))),
      e.map((x) => (x.error === undefined ? null : JSON.stringify(x.error))),
    ],
  );
}
