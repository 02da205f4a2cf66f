import type { RunStatus, StepError } from '@automateiq/core';
import type { Tx } from '../database';

/** Sets a run's status; a final status also records the output or error and the finish time. */
export async function updateRunStatus(
  tx: Tx,
  args: { tenantId: string; runId: string; status: RunStatus; output?: unknown; error?: StepError },
): Promise<void> {
  const final = args.status === 'succeeded' || args.status === 'failed' || args.status === 'cancelled';
  await tx.query(
    `UPDATE runs SET status = $3,
            output = CASE WHEN $4 THEN $5::jsonb ELSE output END,
            error = CASE WHEN $4 THEN $6::jsonb ELSE error END,
            finished_at = CASE WHEN $4 THEN now() ELSE finished_at END
      WHERE tenant_id = $1 AND id = $2`,
    [
      args.tenantId,
      args.runId,
      args.status,
      final,
      args.output === undefined ? null : JSON.stringify(args.output),
      args.error === undefined ? null : JSON.stringify(args.error),
    ],
  );
}
