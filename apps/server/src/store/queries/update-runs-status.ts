import type { RunStatus } from '@automateiq/core';
import type { Tx } from '../database';

/** Sets the live status (queued, running, waiting) of runs in one statement. */
export async function updateRunsStatus(
  tx: Tx,
  args: { tenantId: string; changes: readonly { runId: string; status: RunStatus }[] },
): Promise<void> {
  if (args.changes.length === 0) return;
  await tx.query(
    `UPDATE runs r SET status = v.status, started_at = CASE WHEN v.status = 'running' THEN coalesce(r.started_at, now()) ELSE r.started_at END
       FROM unnest($2::uuid[], $3::text[]) AS v(id, status) WHERE r.tenant_id = $1 AND r.id = v.id`,
    [args.tenantId, args.changes.map((c) => c.runId), args.changes.map((c) => c.status)],
  );
}
