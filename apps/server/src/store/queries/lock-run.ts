import type { RunStatus } from '@automateiq/core';
import type { Tx } from '../database';

export interface LockedRun {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  priority: number;
}

/** Locks a run's row for the rest of the transaction, serialising the completions of its steps. */
export async function lockRun(
  tx: Tx,
  args: { tenantId: string; runId: string },
): Promise<LockedRun | undefined> {
  const { rows } = await tx.query<{
    id: string;
    workflow_id: string;
    version: number;
    status: RunStatus;
    priority: number;
  }>(
    'SELECT id, workflow_id, version, status, priority FROM runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
    [args.tenantId, args.runId],
  );
  const row = rows[0];
  return (
    row && {
      id: row.id,
      workflowId: row.workflow_id,
      version: row.version,
      status: row.status,
      priority: row.priority,
    }
  );
}
