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
}

/**
 * Locks runs' rows for the rest of the transaction, in id order so that concurrent batches never
 * deadlock: whoever changes a run's steps holds its lock, so no two plans of a run interleave.
 */
export async function lockRuns(
  tx: Tx,
  args: { tenantId: string; runIds: readonly string[] },
): Promise<Map<string, RunHead>> {
  if (args.runIds.length === 0) return new Map();
  const { rows } = await tx.query<RunHead>(
    `SELECT id, workflow_id AS "workflowId", version, status, priority, input, trigger, started_at AS "startedAt"
       FROM runs WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
    [args.tenantId, [...new Set(args.runIds)].sort()],
  );
  return new Map(rows.map((r) => [r.id, r]));
}
