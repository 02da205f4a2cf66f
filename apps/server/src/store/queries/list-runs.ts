import type { RunStatus } from '@automateiq/core';
import type { Tx } from '../database';
import type { RunRow } from './get-run';

/** Runs newest first (by id, which is time-ordered), after the cursor id, filtered by workflow and status. */
export async function listRuns(
  tx: Tx,
  args: {
    tenantId: string;
    limit: number;
    before?: string | undefined;
    workflowId?: string | undefined;
    status?: RunStatus | undefined;
  },
): Promise<Omit<RunRow, 'input' | 'output'>[]> {
  const { rows } = await tx.query<Omit<RunRow, 'input' | 'output'>>(
    `SELECT id, workflow_id AS "workflowId", version, status, trigger, error,
            created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"
       FROM runs
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2)
        AND ($3::uuid IS NULL OR workflow_id = $3) AND ($4::text IS NULL OR status = $4)
      ORDER BY id DESC LIMIT $5`,
    [args.tenantId, args.before ?? null, args.workflowId ?? null, args.status ?? null, args.limit],
  );
  return rows;
}
